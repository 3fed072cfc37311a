// The subjects of the in-process receiver benches (bench/receiver-loop.mjs under callgrind,
// bench/receiver-wall.mjs by the clock), in plain JavaScript over a built dist/: the same
// signed Stripe events and the same loops for both.
import { timingSafeEqual } from "node:crypto";
import { hmacSha256 } from "./hmac-sha256.mjs";
import { BENCH_STORE_ENTRIES } from "./bench-store.mjs";
import { uniqueSuffix } from "./unique-suffix.mjs";

export const SECRET = "whsec_bench_secret_0123456789abcdef";

/** 256 signed 1 KiB-ish Stripe events, each with its own id: `{ body, headers }`. */
export async function signedPool(hg, scheme) {
  const pool = [];
  for (let i = 0; i < 256; i++) {
    const items = [];
    for (let j = 0; j < 6; j++) items.push({ id: `li_${j}`, amount: 1999 + j, currency: "eur", description: `Abonnement « Pro » — mois ${j}`, metadata: { order: `ord_${j}`, ok: j % 2 === 0 } });
    const body = Buffer.from(JSON.stringify({ id: `evt_1Nab${String(i).padStart(6, "0")}cdefGhijklmnOp`, object: "event", type: "invoice.paid", data: { object: { items } } }));
    const headers = { host: "127.0.0.1", "user-agent": "Stripe/1.0", "content-type": "application/json", "content-length": String(body.length), ...(await hg.signWebhook(body, scheme)) };
    pool.push({ body, headers });
  }
  return pool;
}

/**
 * The raw limit of bench/raw.ts's rawStripe, written out in plain JavaScript (split the
 * header, check the window, one HMAC by hmac-sha256.mjs, as raw.ts computes it,
 * timingSafeEqual, JSON.parse): `(calls) => handled`.
 */
export function rawLoop(pool) {
  const hmac = hmacSha256(Buffer.from(SECRET, "utf8"));
  return (calls) => {
    let handled = 0;
    for (let i = 0; i < calls; i++) {
      const { body, headers } = pool[i & 255];
      let t;
      const signatures = [];
      for (const part of headers["stripe-signature"].split(",")) {
        const eq = part.indexOf("=");
        const k = part.slice(0, eq);
        if (k === "t") t = part.slice(eq + 1);
        else if (k === "v1") signatures.push(part.slice(eq + 1));
      }
      if (t === undefined || Math.abs(Date.now() / 1000 - Number(t)) > 300) throw new Error("the raw limit found the timestamp out of its window");
      const mac = hmac(`${t}.`, body);
      let ok = false;
      for (const s of signatures) {
        const candidate = Buffer.from(s, "hex");
        if (candidate.length === mac.length && timingSafeEqual(candidate, mac)) ok = true;
      }
      if (!ok) throw new Error("the raw limit did not verify");
      if (JSON.parse(body.toString("utf8")).type === "invoice.paid") handled++;
    }
    return handled;
  };
}

/**
 * createWebhookReceiver({ scheme: stripe({ secret }) }) through the value-or-promise entry
 * the adapters call: `(calls) => handled`. Each event claimed under the default key in a
 * memory store of BENCH_STORE_ENTRIES keys (see bench-store.mjs); with `store: false`, no
 * key and no claim; with `legacyKey`, the receiver of sessions 1-14: the default store and
 * `${id}/${n}` keys (unique-suffix.mjs).
 */
export function receiverLoop(hg, scheme, pool, { store = true, legacyKey = false } = {}) {
  let n = 0;
  let handled = 0;
  const receiver = !store
    ? hg.createWebhookReceiver({ scheme, idempotencyKey: () => undefined, missingId: "process" })
    : legacyKey
      ? hg.createWebhookReceiver({ scheme, idempotencyKey: (event) => `${event.id}/${uniqueSuffix(n++)}` })
      : hg.createWebhookReceiver({ scheme, store: hg.memoryStore({ maxEntries: BENCH_STORE_ENTRIES }) });
  receiver.on("invoice.paid", () => void handled++);
  const tag = Object.getOwnPropertySymbols(receiver.receive).find((s) => s.description === "hookguard.receiveNow");
  const receiveNow = tag && receiver.receive[tag];
  if (receiveNow === undefined) throw new Error("the receiver has no receiveNow");
  return async (calls) => {
    const before = handled;
    for (let i = 0; i < calls; i++) {
      const { body, headers } = pool[i & 255];
      let answer = receiveNow({ body, headers, method: "POST" });
      if (answer instanceof Promise) answer = await answer;
      if (answer.status !== 200) throw new Error(`the receiver answered ${answer.status}`);
    }
    return handled - before;
  };
}
