// node:crypto's ways to compute one HMAC-SHA256 of a 1 KiB Stripe-shaped message, by the
// clock in one process, alternating order every round (medians over rounds, ns per HMAC):
//   createHmac      a KeyObject prepared once, an Hmac object per call (the usual code)
//   hash → Buffer   RFC 2104's two hashes as crypto.hash calls, digests as Buffers
//   hash → latin1   the same, digests as Latin-1 strings: bench/hmac-sha256.mjs, the raw
//                   limit's HMAC (hookguard's own is the same in src/internal/crypto.ts)
// Session 10 measured the one-shot path with Buffer digests and found no gain; session 14
// found the Buffer the native side makes for each digest to be the cost.
//
//   node bench/hmac-paths.mjs [rounds=30] [calls=20000]
import { createHmac, createSecretKey, hash, randomBytes } from "node:crypto";
import { hmacSha256 } from "./hmac-sha256.mjs";

const [rounds = 30, calls = 20000] = process.argv.slice(2).map(Number);
const key = randomBytes(32);
const keyObject = createSecretKey(key);
const body = Buffer.from(JSON.stringify({ id: "evt_1", object: "event", data: "x".repeat(1000) }));
const head = `${Math.floor(Date.now() / 1000)}.`;
const inner = Buffer.alloc(64 + 16 * 1024);
const outer = Buffer.alloc(64 + 32);
for (let i = 0; i < 64; i++) {
  inner[i] = (key[i] ?? 0) ^ 0x36;
  outer[i] = (key[i] ?? 0) ^ 0x5c;
}
function message() {
  const at = 64 + inner.write(head, 64);
  body.copy(inner, at);
  return inner.subarray(0, at + body.length);
}
const subjects = {
  createHmac: () => createHmac("sha256", keyObject).update(head).update(body).digest(),
  "hash → Buffer": () => {
    outer.set(hash("sha256", message(), "buffer"), 64);
    return hash("sha256", outer, "buffer");
  },
  "hash → latin1": ((hmac) => () => hmac(head, body))(hmacSha256(key)),
};
const expected = subjects.createHmac();
for (const [name, f] of Object.entries(subjects)) if (!f().equals(expected)) throw new Error(`${name} computes another HMAC`);
const names = Object.keys(subjects);
const times = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 1 ? [...names].reverse() : names) {
    const f = subjects[name];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    times[name].push(Number(process.hrtime.bigint() - t0) / calls);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const base = median(times.createHmac);
console.log(`${process.version}, ${rounds} rounds of ${calls} HMACs of ${head.length + body.length} bytes`);
for (const name of names) console.log(`${name.padEnd(15)} ${median(times[name]).toFixed(0).padStart(6)} ns  ${(median(times[name]) / base).toFixed(2)}× createHmac`);
