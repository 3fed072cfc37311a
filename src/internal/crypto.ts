// Two implementations of the few primitives hookguard needs. node:crypto is the fast path
// (synchronous, key material prepared once as a KeyObject); Web Crypto serves runtimes
// without node:crypto (Workers, Deno, browsers). node:crypto is looked up at run time, not
// imported, so bundles for edge runtimes never see it.
import type * as NodeCryptoModule from "node:crypto";
import type { webcrypto } from "node:crypto";
import { utf8Encode } from "./encoding";

type SubtleCrypto = webcrypto.SubtleCrypto;
type CryptoKey = webcrypto.CryptoKey;

/** HMAC digests hookguard supports. */
export type HmacAlgorithm = "sha1" | "sha256" | "sha512";

/** Which implementation to use; `undefined` picks node:crypto when present. */
export type CryptoPreference = "node" | "web" | undefined;

/** A key prepared once for repeated HMACs. */
export interface HmacKey {
  /** Computes the HMAC of the concatenated parts. */
  sign(parts: readonly (string | Uint8Array)[]): Uint8Array | Promise<Uint8Array>;
  /** The HMAC of `head + body + tail` (empty parts skipped): the HMAC schemes' hot path, no array per request. */
  mac(head: string, body: string | Uint8Array, tail: string): Uint8Array | Promise<Uint8Array>;
  /** The digest length in bytes. */
  readonly length: number;
}

export const digestLength: Readonly<Record<HmacAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };

type NodeCrypto = typeof NodeCryptoModule;

function loadNodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
}

export const nodeCrypto: NodeCrypto | undefined = loadNodeCrypto();

function webSubtle(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) throw new TypeError("hookguard: neither node:crypto nor Web Crypto (crypto.subtle) is available in this runtime");
  return subtle;
}

/** Resolves a preference to the implementation that will run. */
export function resolveCrypto(preference: CryptoPreference): "node" | "web" {
  if (preference === "web") {
    webSubtle();
    return "web";
  }
  if (nodeCrypto) return "node";
  if (preference === "node") throw new TypeError('hookguard: crypto "node" was requested but node:crypto is not available here');
  webSubtle();
  return "web";
}

const webHashName: Readonly<Record<HmacAlgorithm, string>> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };

/** The parts as one byte array (strings as UTF-8), for APIs that take a single buffer. */
export function concat(parts: readonly (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? utf8Encode(p) : p));
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The hash function's block size in bytes: HMAC's key pads are one block long (RFC 2104). */
const blockSize: Readonly<Record<HmacAlgorithm, number>> = { sha1: 64, sha256: 64, sha512: 128 };

/**
 * Messages (pad block included) up to this many bytes go through {@link oneShotMac}; longer
 * ones stream through `createHmac`, which copies nothing. Past a few KiB the hashing itself
 * dwarfs what the one-shot path saves, and the copy buffer stays this small per key.
 */
export const ONE_SHOT_MAX_BYTES = 16 * 1024;

/** Prepares an HMAC key on the chosen implementation. */
export function prepareHmacKey(algorithm: HmacAlgorithm, key: Uint8Array, impl: "node" | "web"): HmacKey {
  const length = digestLength[algorithm];
  if (impl === "node" && nodeCrypto) {
    const { createHmac, createSecretKey } = nodeCrypto;
    // A KeyObject skips re-encoding the key on every request (about 20% of a 1 KiB HMAC).
    const keyObject = createSecretKey(key);
    const streamed = (head: string, body: string | Uint8Array, tail: string): Uint8Array => {
      const h = createHmac(algorithm, keyObject);
      if (head.length !== 0) h.update(head);
      h.update(body);
      if (tail.length !== 0) h.update(tail);
      return h.digest();
    };
    return {
      length,
      sign(parts) {
        const h = createHmac(algorithm, keyObject);
        for (const p of parts) h.update(p);
        return h.digest();
      },
      mac: oneShotMac(algorithm, key, nodeCrypto, streamed) ?? streamed,
    };
  }
  let cryptoKey: Promise<CryptoKey> | undefined;
  async function sign(parts: readonly (string | Uint8Array)[]): Promise<Uint8Array> {
    const subtle = webSubtle();
    cryptoKey ??= subtle.importKey("raw", key, { name: "HMAC", hash: webHashName[algorithm] }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", await cryptoKey, concat(parts)));
  }
  return { length, sign, mac: (head, body, tail) => sign([head, body, tail]) };
}

/**
 * HMAC (RFC 2104) as two one-shot hashes, `H(key ⊕ opad ‖ H(key ⊕ ipad ‖ message))`, the
 * message copied after the inner pad into a buffer kept with the key: `crypto.hash` (Node
 * 20.12+) hashes a buffer in one native call, where `createHmac` builds an Hmac object,
 * its stream machinery and a native context on every request. `undefined` where
 * `crypto.hash` or `Buffer` is missing (the caller streams then). Synchronous: one buffer
 * per key serves every call, as nothing else runs between the copy and the hash.
 */
function oneShotMac(
  algorithm: HmacAlgorithm,
  key: Uint8Array,
  node: NodeCrypto,
  streamed: (head: string, body: string | Uint8Array, tail: string) => Uint8Array,
): HmacKey["mac"] | undefined {
  const hash = (node as { hash?: unknown }).hash as ((algorithm: string, data: Uint8Array, outputEncoding: "latin1") => string) | undefined;
  // Both from the runtime, not assumed: a node:crypto look-alike (Bun, Deno, Workers) may lack either.
  const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
  if (typeof hash !== "function" || NodeBuffer === undefined) return undefined;
  const block = blockSize[algorithm];
  // A key longer than a block is hashed first; a shorter one is padded with zeros.
  const padded = new Uint8Array(block);
  padded.set(key.byteLength > block ? NodeBuffer.from(hash(algorithm, key, "latin1"), "latin1") : key);
  /** A buffer of `size` bytes that starts with the key's pad: `0x36` inner, `0x5c` outer. */
  const pad = (size: number, byte: number): Buffer => {
    const b = NodeBuffer.allocUnsafeSlow(size);
    for (let i = 0; i < block; i++) b[i] = padded[i]! ^ byte;
    return b;
  };
  // The outer message: its pad, then the inner digest. The inner one: its pad, then the message.
  const outer = pad(block + digestLength[algorithm], 0x5c);
  let inner = pad(block, 0x36);
  return (head, body, tail) => {
    // The most bytes the message can take (UTF-8: at most 3 per UTF-16 code unit).
    const most = block + 3 * (head.length + tail.length) + (typeof body === "string" ? 3 * body.length : body.byteLength);
    if (most > ONE_SHOT_MAX_BYTES) return streamed(head, body, tail);
    if (most > inner.length) inner = pad(Math.min(ONE_SHOT_MAX_BYTES, Math.max(most, 2 * inner.length, 2048)), 0x36);
    let at = block + inner.write(head, block);
    at += typeof body === "string" ? inner.write(body, at) : (inner.set(body, at), body.byteLength);
    if (tail.length !== 0) at += inner.write(tail, at);
    // Digests as Latin-1 strings, one character a byte: a Buffer made by the native side
    // costs more than the hash of a 1 KiB message (a backing store each, and `"buffer"` is
    // lower-cased on every call); a short string is a heap object, decoded from Node's pool.
    outer.write(hash(algorithm, inner.subarray(0, at), "latin1"), block, "latin1");
    return NodeBuffer.from(hash(algorithm, outer, "latin1"), "latin1");
  };
}

/** Plain (unkeyed) SHA digest, for schemes that hash bodies. */
export function digest(algorithm: HmacAlgorithm, parts: readonly (string | Uint8Array)[], impl: "node" | "web"): Uint8Array | Promise<Uint8Array> {
  if (impl === "node" && nodeCrypto) {
    // One part (GitLab's token, Twilio's body): one native call, the digest as a Latin-1
    // string (see oneShotMac), where the runtime offers `crypto.hash`.
    const hash = (nodeCrypto as { hash?: unknown }).hash as ((algorithm: string, data: string | Uint8Array, outputEncoding: "latin1") => string) | undefined;
    const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
    if (parts.length === 1 && typeof hash === "function" && NodeBuffer !== undefined) return NodeBuffer.from(hash(algorithm, parts[0]!, "latin1"), "latin1");
    const h = nodeCrypto.createHash(algorithm);
    for (const p of parts) h.update(p);
    return h.digest();
  }
  return webSubtle()
    .digest(webHashName[algorithm], concat(parts))
    .then((d: ArrayBuffer) => new Uint8Array(d));
}

/**
 * Constant-time equality of two byte arrays. A length mismatch returns false without
 * comparing: lengths are public (every valid signature of a scheme has the same length).
 * The Web path uses a portable XOR loop even where node:crypto exists, so tests of the
 * edge path exercise the code that runs on the edge.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array, impl: "node" | "web"): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (impl === "node" && nodeCrypto) return nodeCrypto.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A random id for signing helpers. */
export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  if (nodeCrypto) return nodeCrypto.randomUUID();
  throw new TypeError("hookguard: no random UUID source in this runtime");
}
