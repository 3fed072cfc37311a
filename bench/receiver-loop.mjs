// The receiver in a loop, for callgrind, with nothing between runs that moves the count: plain
// JavaScript over a built dist/ (no tsx loader), V8's random seed fixed (`--random-seed`), the
// store's claims each a new key. Two runs of one build at 20,000 and 60,000 calls give the
// marginal instructions per event, the same on every run of that build in that folder; a
// different build, or the same one copied to another folder, can move it by ~600 (the
// heap's layout shifts when the collector runs). bench/instructions.sh --receiver's
// subject, run through tsx, moves by ±1k even between identical runs. Used by
// `bash bench/instructions.sh --receiver-loop`.
//
//   node --single-threaded --random-seed=7 bench/receiver-loop.mjs <dist> <calls> <raw|receiver>
//
// raw: the raw limit of bench/raw.ts's rawStripe, written out here in plain JavaScript (same
// steps: split the header, check the window, one HMAC with a KeyObject, timingSafeEqual,
// JSON.parse). receiver: createWebhookReceiver({ scheme: stripe({ secret }) }) with the
// default memory store and `${id}/${n}` keys (the pool repeats), through the value-or-promise
// entry the adapters call.
import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import { pathToFileURL } from "node:url";

const [dist = "dist", callsArg = "10000", mode = "receiver"] = process.argv.slice(2);
const calls = Number(callsArg);
const hg = await import(pathToFileURL(`${dist}/index.js`).href);
const secret = "whsec_bench_secret_0123456789abcdef";
const scheme = hg.stripe({ secret });

// 256 signed 1 KiB-ish Stripe events, each with its own id.
const pool = [];
for (let i = 0; i < 256; i++) {
  const items = [];
  for (let j = 0; j < 6; j++) items.push({ id: `li_${j}`, amount: 1999 + j, currency: "eur", description: `Abonnement « Pro » — mois ${j}`, metadata: { order: `ord_${j}`, ok: j % 2 === 0 } });
  const body = Buffer.from(JSON.stringify({ id: `evt_1Nab${String(i).padStart(6, "0")}cdefGhijklmnOp`, object: "event", type: "invoice.paid", data: { object: { items } } }));
  const headers = { host: "127.0.0.1", "user-agent": "Stripe/1.0", "content-type": "application/json", "content-length": String(body.length), ...(await hg.signWebhook(body, scheme)) };
  pool.push({ body, headers });
}

let handled = 0;
if (mode === "raw") {
  const key = createSecretKey(Buffer.from(secret, "utf8"));
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
    const mac = createHmac("sha256", key).update(`${t}.`).update(body).digest();
    let ok = false;
    for (const s of signatures) {
      const candidate = Buffer.from(s, "hex");
      if (candidate.length === mac.length && timingSafeEqual(candidate, mac)) ok = true;
    }
    if (!ok) throw new Error("the raw limit did not verify");
    if (JSON.parse(body.toString("utf8")).type === "invoice.paid") handled++;
  }
} else if (mode === "receiver") {
  let n = 0;
  const receiver = hg.createWebhookReceiver({ scheme, idempotencyKey: (event) => `${event.id}/${n++}` });
  receiver.on("invoice.paid", () => void handled++);
  const tag = Object.getOwnPropertySymbols(receiver.receive).find((s) => s.description === "hookguard.receiveNow");
  const receiveNow = tag && receiver.receive[tag];
  if (receiveNow === undefined) throw new Error("the receiver has no receiveNow");
  for (let i = 0; i < calls; i++) {
    const { body, headers } = pool[i & 255];
    let answer = receiveNow({ body, headers, method: "POST" });
    if (answer instanceof Promise) answer = await answer;
    if (answer.status !== 200) throw new Error(`the receiver answered ${answer.status}`);
  }
} else {
  throw new Error(`unknown mode ${mode}: raw or receiver`);
}
if (handled !== calls) throw new Error(`${handled} of ${calls} events handled`);
