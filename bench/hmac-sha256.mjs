// The raw limit's HMAC-SHA256 (bench/raw.ts), in plain JavaScript so that the benches over a
// built dist/ (bench/receiver-subjects.mjs, run by node without tsx) and bench/hmac-paths.mjs
// compute it with the same code as the TypeScript ones.
//
// RFC 2104's two hashes, one `crypto.hash` call each: node:crypto's fastest HMAC of a short
// message. `createHmac` builds an object, its stream machinery and a native context per
// call (a 1 KiB HMAC costs ~40 % more that way, session 14); here the inner pad stays at the
// start of a buffer the message is copied after, and the digests come back as Latin-1
// ("binary") strings (a Buffer made on the native side costs more than the hash). Until
// session 14 the limit used `createHmac` — as SDKs and hand-written verifiers do — and
// hookguard then took this path: the limit must be the fastest code, not the usual one. A
// message over 16 KiB goes through `createHmac`.
import { createHmac, createSecretKey, hash } from "node:crypto";

/** `(head, body) => HMAC-SHA256(key, head + body)`, the head as UTF-8. */
export function hmacSha256(key) {
  const k = key.length > 64 ? Buffer.from(hash("sha256", key, "binary"), "latin1") : key;
  const keyObject = createSecretKey(key);
  const inner = Buffer.alloc(64 + 16 * 1024);
  const outer = Buffer.alloc(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = (k[i] ?? 0) ^ 0x36;
    outer[i] = (k[i] ?? 0) ^ 0x5c;
  }
  return (head, body) => {
    if (64 + 3 * head.length + body.length > inner.length) return createHmac("sha256", keyObject).update(head).update(body).digest();
    const at = 64 + inner.write(head, 64);
    body.copy(inner, at);
    outer.write(hash("sha256", inner.subarray(0, at + body.length), "binary"), 64, "latin1");
    return Buffer.from(hash("sha256", outer, "binary"), "latin1");
  };
}
