// Payload versioning, the out-of-order guard and per-handler completion, on the memory
// store (the same features run on Redis and PostgreSQL in test/integration).
import { describe, expect, it, vi } from "vitest";
import { createWebhookReceiver, memoryStore, signWebhook, stripe, type IdempotencyStore, type WebhookRequest } from "../../src/index";

const scheme = stripe({ secret: "whsec_features" });

async function delivery(event: Record<string, unknown>, at = Date.now()): Promise<WebhookRequest> {
  const body = JSON.stringify(event);
  return { body, headers: await signWebhook(body, scheme, { timestamp: at }) };
}

const status = (r: { status: number; body: string }) => `${r.status} ${(JSON.parse(r.body) as { status?: string; error?: string }).status ?? (JSON.parse(r.body) as { error?: string }).error}`;

describe("payload versioning", () => {
  const versioning = {
    version: (e: { payload: unknown }) => (e.payload as { api_version?: string }).api_version,
    current: "2024-06-20",
    upgrade: {
      // 2023: amount in a string of cents; 2024-01: a number of cents; 2024-06: an object.
      "2023-10-16": (p: unknown) => ({ version: "2024-01-01", payload: { ...(p as object), amount: Number((p as { amount: string }).amount) } }),
      "2024-01-01": (p: unknown) => ({ version: "2024-06-20", payload: { ...(p as object), amount: { value: (p as { amount: number }).amount, currency: "usd" } } }),
    },
  };

  it("upgrades old payloads through the chain so handlers see one current shape", async () => {
    const seen: unknown[] = [];
    const receiver = createWebhookReceiver({ scheme, versioning }).on("charge.succeeded", (e, ctx) => void seen.push([ctx.version, (e.payload as { amount: unknown }).amount]));
    await receiver.receive(await delivery({ id: "evt_v1", type: "charge.succeeded", api_version: "2023-10-16", amount: "1200" }));
    await receiver.receive(await delivery({ id: "evt_v2", type: "charge.succeeded", api_version: "2024-01-01", amount: 1300 }));
    await receiver.receive(await delivery({ id: "evt_v3", type: "charge.succeeded", api_version: "2024-06-20", amount: { value: 1400, currency: "usd" } }));
    expect(seen).toEqual([
      ["2024-06-20", { value: 1200, currency: "usd" }],
      ["2024-06-20", { value: 1300, currency: "usd" }],
      ["2024-06-20", { value: 1400, currency: "usd" }],
    ]);
  });

  it("rejects an unknown version with 422 before claiming, or passes it through when configured", async () => {
    const claims = vi.fn();
    const inner = memoryStore();
    const store: IdempotencyStore = { claim: (k, o) => (claims(), inner.claim(k, o)), complete: (k, t, o) => inner.complete(k, t, o), release: (k, t) => inner.release(k, t) };
    const handler = vi.fn();
    const strict = createWebhookReceiver({ scheme, store, versioning }).onAny(handler);
    const future = await delivery({ id: "evt_future", type: "x", api_version: "2031-01-01" });
    const res = await strict.receive(future);
    expect(res.status).toBe(422);
    expect(JSON.parse(res.body).error).toBe("unsupported_version");
    expect(status(await strict.receive(await delivery({ id: "evt_nov", type: "x" })))).toBe("422 unsupported_version");
    expect(claims).not.toHaveBeenCalled();
    expect(handler).not.toHaveBeenCalled();
    const lenient = createWebhookReceiver({ scheme, versioning: { ...versioning, unknown: "pass" } }).onAny((_e, ctx) => handler(ctx.version));
    expect((await lenient.receive(future)).status).toBe(200);
    expect(handler).toHaveBeenCalledWith("2031-01-01");
  });

  it("routes by version when handlers ask for one", async () => {
    const calls: string[] = [];
    const receiver = createWebhookReceiver({ scheme, versioning: { version: versioning.version } })
      .on("invoice.paid", { version: "2023-10-16" }, () => void calls.push("old"))
      .on("invoice.paid", { version: ["2024-06-20", "2024-09-30"] }, () => void calls.push("new"));
    await receiver.receive(await delivery({ id: "evt_r1", type: "invoice.paid", api_version: "2023-10-16" }));
    await receiver.receive(await delivery({ id: "evt_r2", type: "invoice.paid", api_version: "2024-09-30" }));
    const none = await receiver.receive(await delivery({ id: "evt_r3", type: "invoice.paid", api_version: "2022-01-01" }));
    expect(calls).toEqual(["old", "new"]);
    expect(status(none)).toBe("200 ignored");
    expect(() => createWebhookReceiver({ scheme }).on("x", { version: "1" }, () => {})).toThrow(/versioning/);
  });

  it("stops an upgrade table with a cycle instead of looping", async () => {
    const loop = { version: versioning.version, current: "c", upgrade: { a: (p: unknown) => ({ version: "b", payload: p }), b: (p: unknown) => ({ version: "a", payload: p }) } };
    const receiver = createWebhookReceiver({ scheme, versioning: loop }).onAny(() => {});
    expect((await receiver.receive(await delivery({ id: "evt_loop", type: "x", api_version: "a" }))).status).toBe(422);
  });
});

describe("out-of-order guard", () => {
  const ordering = { resource: (e: { payload: unknown }) => (e.payload as { data: { object: { id: string } } }).data.object.id };

  it("tells handlers when an event is older than one already handled for the same resource", async () => {
    const seen: [string, boolean][] = [];
    const receiver = createWebhookReceiver({ scheme, ordering }).onAny((e, ctx) => void seen.push([e.id!, ctx.stale]));
    const t = Date.now();
    await receiver.receive(await delivery({ id: "evt_new", type: "customer.updated", data: { object: { id: "cus_1" } } }, t));
    await receiver.receive(await delivery({ id: "evt_old", type: "customer.updated", data: { object: { id: "cus_1" } } }, t - 60_000));
    await receiver.receive(await delivery({ id: "evt_other", type: "customer.updated", data: { object: { id: "cus_2" } } }, t - 60_000));
    await receiver.receive(await delivery({ id: "evt_newer", type: "customer.updated", data: { object: { id: "cus_1" } } }, t + 1000));
    expect(seen).toEqual([
      ["evt_new", false],
      ["evt_old", true],
      ["evt_other", false],
      ["evt_newer", false],
    ]);
  });

  it("skips stale events automatically when asked, acknowledging them", async () => {
    const handler = vi.fn();
    const receiver = createWebhookReceiver({ scheme, ordering: { ...ordering, skipStale: true, position: (e) => (e.payload as { seq: number }).seq } }).onAny(handler);
    await receiver.receive(await delivery({ id: "evt_s2", type: "x", seq: 2, data: { object: { id: "o" } } }));
    const stale = await receiver.receive(await delivery({ id: "evt_s1", type: "x", seq: 1, data: { object: { id: "o" } } }));
    expect(status(stale)).toBe("200 stale");
    expect(status(await receiver.receive(await delivery({ id: "evt_s1", type: "x", seq: 1, data: { object: { id: "o" } } })))).toBe("200 duplicate");
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("needs a store that keeps watermarks", () => {
    const bare: IdempotencyStore = { claim: async () => ({ status: "in_progress" }), complete: async () => false, release: async () => false };
    expect(() => createWebhookReceiver({ scheme, store: bare, ordering })).toThrow(/advanceWatermark/);
  });
});

describe("per-handler completion", () => {
  it("reruns only the handlers that did not complete when one of several fails", async () => {
    const runs = { email: 0, ledger: 0, crm: 0 };
    let crmFails = true;
    const receiver = createWebhookReceiver({ scheme })
      .onError(() => {})
      .on("invoice.paid", { name: "email" }, () => void runs.email++)
      .on("invoice.paid", { name: "ledger" }, () => void runs.ledger++)
      .on("invoice.*", { name: "crm" }, () => {
        runs.crm++;
        if (crmFails) throw new Error("CRM down");
      });
    const req = await delivery({ id: "evt_multi", type: "invoice.paid" });
    expect((await receiver.receive(req)).status).toBe(500);
    expect(runs).toEqual({ email: 1, ledger: 1, crm: 1 });
    crmFails = false;
    expect((await receiver.receive(req)).status).toBe(200);
    expect(runs).toEqual({ email: 1, ledger: 1, crm: 2 });
    expect(status(await receiver.receive(req))).toBe("200 duplicate");
  });

  it("reruns every handler when tracking is off", async () => {
    let a = 0;
    let fail = true;
    const receiver = createWebhookReceiver({ scheme, trackHandlers: false })
      .onError(() => {})
      .onAny(() => void a++)
      .onAny(() => {
        if (fail) throw new Error("x");
      });
    const req = await delivery({ id: "evt_untracked", type: "x" });
    await receiver.receive(req);
    fail = false;
    await receiver.receive(req);
    expect(a).toBe(2);
  });
});
