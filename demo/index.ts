// npm run demo: a Stripe-style webhook endpoint on the embedded memory store, fed the
// deliveries a real provider sends — and the ones an attacker or a bad network sends.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookReceiver, signWebhook, stripe } from "../src/index";
import { handleWebhooks } from "../src/adapters/node";

const secret = "whsec_demo_secret_do_not_use_in_production";
const scheme = stripe({ secret });

// --- the application: what a user of hookguard writes -----------------------------------
const runs = new Map<string, number>();
let flakyFailuresLeft = 1;
const receiver = createWebhookReceiver({
  scheme,
  // The out-of-order guard: an update older than one already handled for the same object is skipped.
  ordering: {
    resource: (event) =>
      (event.payload as { data?: { object?: { id?: string } } }).data?.object
        ?.id,
    skipStale: true,
  },
});
receiver.on("subscription.updated", (event) => {
  runs.set(event.id!, (runs.get(event.id!) ?? 0) + 1);
});
receiver.on("invoice.paid", async (event) => {
  runs.set(event.id!, (runs.get(event.id!) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 20)); // some real work: a database write, an email
});
receiver.on("customer.updated", async (event) => {
  runs.set(event.id!, (runs.get(event.id!) ?? 0) + 1);
  if (flakyFailuresLeft-- > 0) throw new Error("the CRM timed out");
});
receiver.onError(() => {}); // the demo prints outcomes itself
const server = createServer(handleWebhooks(receiver));

// --- the provider: signs and delivers ----------------------------------------------------
async function deliver(
  url: string,
  event: object,
  opts: { tamper?: boolean; ageSeconds?: number; signedAt?: number } = {}
): Promise<{ status: number; outcome: string }> {
  const body = JSON.stringify(event);
  const headers = await signWebhook(body, scheme, {
    timestamp: opts.signedAt ?? Date.now() - (opts.ageSeconds ?? 0) * 1000,
  });
  const sent = opts.tamper ? body.replace('"amount":1000', '"amount":1') : body;
  const res = await fetch(url, { method: "POST", headers, body: sent });
  const json = (await res.json()) as { status?: string; error?: string };
  return { status: res.status, outcome: json.status ?? json.error ?? "?" };
}

interface Row {
  delivery: string;
  http: string;
  outcome: string;
  runs: string;
}

async function main(): Promise<void> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${
    (server.address() as AddressInfo).port
  }/webhooks/stripe`;
  const rows: Row[] = [];
  const count = (id: string) => String(runs.get(id) ?? 0);

  const paid = {
    id: "evt_paid",
    type: "invoice.paid",
    data: { object: { amount: 1000 } },
  };
  let r = await deliver(url, paid);
  rows.push({
    delivery: "invoice.paid, first delivery",
    http: String(r.status),
    outcome: r.outcome,
    runs: count("evt_paid"),
  });

  r = await deliver(url, paid);
  rows.push({
    delivery: "the same event again (a duplicate)",
    http: String(r.status),
    outcome: r.outcome,
    runs: count("evt_paid"),
  });

  const burst = {
    id: "evt_burst",
    type: "invoice.paid",
    data: { object: { amount: 1000 } },
  };
  const copies = await Promise.all(
    Array.from({ length: 5 }, () => deliver(url, burst))
  );
  const tally = new Map<string, number>();
  for (const c of copies)
    tally.set(
      `${c.status} ${c.outcome}`,
      (tally.get(`${c.status} ${c.outcome}`) ?? 0) + 1
    );
  rows.push({
    delivery: "5 concurrent copies of one event",
    http: [...tally].map(([k, n]) => `${n}×${k.split(" ")[0]}`).join(" "),
    outcome: [...tally].map(([k]) => k.split(" ")[1]).join(" / "),
    runs: count("evt_burst"),
  });

  // The provider keeps every copy it did not get a 2xx for, and retries it later.
  const retried = await Promise.all(
    copies.filter((c) => c.status !== 200).map(() => deliver(url, burst))
  );
  rows.push({
    delivery: `the ${retried.length} unacknowledged copies, retried`,
    http: `${retried.length}×${retried[0]?.status ?? "-"}`,
    outcome: [...new Set(retried.map((c) => c.outcome))].join(" / ") || "-",
    runs: count("evt_burst"),
  });

  const forged = {
    id: "evt_forged",
    type: "invoice.paid",
    data: { object: { amount: 1000 } },
  };
  r = await deliver(url, forged, { tamper: true });
  rows.push({
    delivery: "tampered body (amount changed)",
    http: String(r.status),
    outcome: r.outcome,
    runs: count("evt_forged"),
  });

  const replay = {
    id: "evt_replay",
    type: "invoice.paid",
    data: { object: { amount: 1000 } },
  };
  r = await deliver(url, replay, { ageSeconds: 600 });
  rows.push({
    delivery: "replayed request, signed 10 min ago",
    http: String(r.status),
    outcome: r.outcome,
    runs: count("evt_replay"),
  });

  const flaky = {
    id: "evt_flaky",
    type: "customer.updated",
    data: { object: {} },
  };
  const first = await deliver(url, flaky);
  const retry = await deliver(url, flaky); // the provider retries after a 5xx
  rows.push({
    delivery: "handler fails once, provider retries",
    http: `${first.status} → ${retry.status}`,
    outcome: `${first.outcome} → ${retry.outcome}`,
    runs: count("evt_flaky"),
  });

  // Providers do not promise order: the older update of sub_1 arrives after the newer one.
  const now = Date.now();
  const newer = {
    id: "evt_sub_new",
    type: "subscription.updated",
    data: { object: { id: "sub_1", status: "active" } },
  };
  const older = {
    id: "evt_sub_old",
    type: "subscription.updated",
    data: { object: { id: "sub_1", status: "trialing" } },
  };
  const n = await deliver(url, newer, { signedAt: now });
  const o = await deliver(url, older, { signedAt: now - 30_000 });
  rows.push({
    delivery: "an older update after a newer one",
    http: `${n.status} → ${o.status}`,
    outcome: `${n.outcome} → ${o.outcome}`,
    runs: `${count("evt_sub_new")} + ${count("evt_sub_old")}`,
  });

  server.close();
  print(url, rows);

  const ok =
    count("evt_paid") === "1" &&
    count("evt_burst") === "1" &&
    retried.every((c) => c.status === 200) &&
    count("evt_forged") === "0" &&
    count("evt_replay") === "0" &&
    count("evt_flaky") === "2" &&
    retry.status === 200 &&
    count("evt_sub_new") === "1" &&
    count("evt_sub_old") === "0";
  if (!ok) {
    console.error("demo: an outcome differs from what hookguard guarantees");
    process.exit(1);
  }
}

function print(url: string, rows: Row[]): void {
  const head: Row = {
    delivery: "delivery",
    http: "HTTP",
    outcome: "outcome",
    runs: "handler runs",
  };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((x) => x[k].length));
  const line = (x: Row) =>
    `  ${x.delivery.padEnd(w("delivery"))}  ${x.http.padEnd(
      w("http")
    )}  ${x.outcome.padEnd(w("outcome"))}  ${x.runs}`;
  console.log(
    `\nhookguard demo: a Stripe endpoint at ${url}, idempotency on the embedded memory store\n`
  );
  console.log(line(head));
  console.log(
    `  ${"-".repeat(w("delivery") + w("http") + w("outcome") + w("runs") + 6)}`
  );
  for (const row of rows) console.log(line(row));
  console.log(`
  - Each genuine event ran its handler once, however often or concurrently it arrived:
    copies that come while the first is running get 409 (the provider retries later),
    copies after it finished get 200 "duplicate".
  - Forged and replayed requests were rejected (401) before any store write or handler run.
  - A handler that throws gets 500 and its claim released, so the provider's retry runs it
    again; the second attempt succeeded and was acknowledged.
  - An update older than one already handled for the same object was acknowledged as
    "stale" without running its handler (the out-of-order guard).
`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
