// Public-key signatures for the providers that do not share a secret: Ed25519 (Discord,
// Standard Webhooks v1a) and ECDSA P-256 with SHA-256 (SendGrid), on node:crypto and on
// Web Crypto. Both paths see exactly the same bytes: keys are parsed and validated here,
// once, by the same code, and ECDSA signatures reach both as IEEE P1363 (r || s) after one
// strict DER decoder — node:crypto's DER parser and a hand-written Web one could otherwise
// disagree about a malformed signature.
import type { KeyObject, webcrypto } from "node:crypto";
import { nodeCrypto } from "./crypto";
import { base64ToBytes, utf8Encode } from "./encoding";

type CryptoKey = webcrypto.CryptoKey;
type SubtleCrypto = webcrypto.SubtleCrypto;
type Parts = readonly (string | Uint8Array)[];

/** A public key prepared once; `verify` never throws and never rejects. */
export interface PublicKeyVerifier {
  verify(parts: Parts, signature: Uint8Array): boolean | Promise<boolean>;
}

/** A private key prepared once, for signing helpers (tests and senders). */
export interface PrivateKeySigner {
  /** Ed25519: the 64-byte signature; ECDSA: IEEE P1363 `r || s` (64 bytes for P-256). */
  sign(parts: Parts): Promise<Uint8Array>;
}

// DER prefixes of the fixed-size keys: an Ed25519 SubjectPublicKeyInfo / PKCS#8 is a
// constant header followed by the 32 raw bytes; a P-256 SPKI with an uncompressed point is
// a constant header followed by 0x04 || X || Y.
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const P256_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
]);

// P-256 domain parameters (SEC 2 / FIPS 186-4), for the on-curve check of public keys.
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!s) throw new TypeError("hookguard: neither node:crypto nor Web Crypto (crypto.subtle) is available in this runtime");
  return s;
}

function concat(parts: Parts): Uint8Array {
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

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * Reads a key written as PEM (`-----BEGIN …-----`) or as bare base64 of its DER, the two
 * ways dashboards hand keys out. `undefined` if it is neither.
 */
export function pemOrBase64(text: string): Uint8Array | undefined {
  const pem = /^\s*-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----\s*$/.exec(text);
  const b64 = (pem ? pem[1]! : text).replace(/\s+/g, "");
  if (b64.length === 0) return undefined;
  return base64ToBytes(b64, false);
}

/** `true` if 65 bytes `04 || X || Y` are a point of P-256 (both coordinates reduced). */
function onP256(point: Uint8Array): boolean {
  if (point.byteLength !== 65 || point[0] !== 0x04) return false;
  const x = toBigInt(point.subarray(1, 33));
  const y = toBigInt(point.subarray(33, 65));
  if (x >= P256_P || y >= P256_P) return false;
  const rhs = (((x * x) % P256_P) * x - 3n * x + P256_B) % P256_P;
  return (y * y) % P256_P === (rhs + P256_P) % P256_P;
}

/**
 * Validates a P-256 public key as DER SubjectPublicKeyInfo with an uncompressed point on
 * the curve, the form SendGrid's dashboard shows. `undefined` if it is anything else, so
 * both crypto paths refuse the same keys, at construction.
 */
export function p256SpkiOrUndefined(der: Uint8Array): Uint8Array | undefined {
  if (der.byteLength !== P256_SPKI_PREFIX.byteLength + 64 || !startsWith(der, P256_SPKI_PREFIX)) return undefined;
  return onP256(der.subarray(P256_SPKI_PREFIX.byteLength - 1)) ? der : undefined;
}

/**
 * Strict DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` to IEEE P1363
 * `r || s`, each left-padded to `size` bytes. Rejects (returns `undefined`) long-form
 * lengths, trailing bytes, negative or non-minimal integers and integers longer than the
 * curve order: exactly the encodings a conforming signer never produces.
 */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  if (der.byteLength < 8 || der[0] !== 0x30 || der[1]! >= 0x80 || der[1] !== der.byteLength - 2) return undefined;
  const out = new Uint8Array(size * 2);
  let at = 2;
  for (const slot of [0, 1]) {
    if (der[at] !== 0x02) return undefined;
    const len = der[at + 1]!;
    if (len === 0 || len >= 0x80 || at + 2 + len > der.byteLength) return undefined;
    let value = der.subarray(at + 2, at + 2 + len);
    if (value[0]! & 0x80) return undefined; // negative
    if (value[0] === 0) {
      // A lone zero (r or s = 0 is never valid), or a leading zero that guards no high bit (not minimal).
      if (len === 1 || !(value[1]! & 0x80)) return undefined;
      value = value.subarray(1);
    }
    if (value.byteLength > size) return undefined;
    out.set(value, slot * size + size - value.byteLength);
    at += 2 + len;
  }
  return at === der.byteLength ? out : undefined;
}

function derInteger(value: Uint8Array): Uint8Array {
  let i = 0;
  while (i < value.byteLength - 1 && value[i] === 0) i++;
  const trimmed = value.subarray(i);
  const body = trimmed[0]! & 0x80 ? join(Uint8Array.of(0), trimmed) : trimmed;
  return join(Uint8Array.of(0x02, body.byteLength), body);
}

/** IEEE P1363 `r || s` to DER, for providers (SendGrid) whose headers carry DER. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const half = signature.byteLength / 2;
  const seq = join(derInteger(signature.subarray(0, half)), derInteger(signature.subarray(half)));
  return join(Uint8Array.of(0x30, seq.byteLength), seq);
}

function nodeVerifier(key: KeyObject, algorithm: "ed25519" | "p256"): PublicKeyVerifier {
  const c = nodeCrypto!;
  return {
    verify(parts, signature) {
      try {
        if (algorithm === "ed25519") return c.verify(null, concat(parts), key, signature);
        return c.verify("sha256", concat(parts), { key, dsaEncoding: "ieee-p1363" }, signature);
      } catch {
        return false;
      }
    },
  };
}

function webVerifier(importKey: () => Promise<CryptoKey>, algorithm: "ed25519" | "p256"): PublicKeyVerifier {
  let key: Promise<CryptoKey> | undefined;
  const params = algorithm === "ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
  return {
    async verify(parts, signature) {
      try {
        key ??= importKey();
        return await subtle().verify(params, await key, signature, concat(parts));
      } catch {
        return false;
      }
    },
  };
}

/** Prepares an Ed25519 public key from its 32 raw bytes. */
export function ed25519PublicKey(raw: Uint8Array, impl: "node" | "web"): PublicKeyVerifier {
  if (raw.byteLength !== 32) throw new TypeError("hookguard: an Ed25519 public key is 32 bytes");
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPublicKey({ key: Buffer.from(join(ED25519_SPKI_PREFIX, raw)), format: "der", type: "spki" });
    return nodeVerifier(key, "ed25519");
  }
  const copy = raw.slice();
  return webVerifier(() => subtle().importKey("raw", copy, { name: "Ed25519" }, false, ["verify"]), "ed25519");
}

/** Prepares a P-256 public key from DER SPKI already checked by {@link p256SpkiOrUndefined}. */
export function p256PublicKey(spki: Uint8Array, impl: "node" | "web"): PublicKeyVerifier {
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return nodeVerifier(key, "p256");
  }
  const copy = spki.slice();
  return webVerifier(() => subtle().importKey("spki", copy, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]), "p256");
}

/** Prepares an Ed25519 private key from its 32-byte seed. */
export function ed25519PrivateKey(seed: Uint8Array, impl: "node" | "web"): PrivateKeySigner {
  if (seed.byteLength !== 32) throw new TypeError("hookguard: an Ed25519 private key is a 32-byte seed");
  const pkcs8 = join(ED25519_PKCS8_PREFIX, seed);
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    const c = nodeCrypto;
    return { sign: async (parts) => new Uint8Array(c.sign(null, concat(parts), key)) };
  }
  let key: Promise<CryptoKey> | undefined;
  return {
    async sign(parts) {
      key ??= subtle().importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
      return new Uint8Array(await subtle().sign({ name: "Ed25519" }, await key, concat(parts)));
    },
  };
}

/** Prepares a P-256 private key from PKCS#8 DER; signatures come out as P1363. */
export function p256PrivateKey(pkcs8: Uint8Array, impl: "node" | "web"): PrivateKeySigner {
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    const c = nodeCrypto;
    return { sign: async (parts) => new Uint8Array(c.sign("sha256", concat(parts), { key, dsaEncoding: "ieee-p1363" })) };
  }
  const copy = pkcs8.slice();
  let key: Promise<CryptoKey> | undefined;
  return {
    async sign(parts) {
      key ??= subtle().importKey("pkcs8", copy, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      return new Uint8Array(await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, await key, concat(parts)));
    },
  };
}

/**
 * The index of the first key under which the signature verifies, or -1. Synchronous while
 * every key answers synchronously (node:crypto), so the Node hot path makes no promise.
 */
export function firstValidKey(keys: readonly PublicKeyVerifier[], parts: Parts, signatures: readonly Uint8Array[]): number | Promise<number> {
  for (let i = 0; i < keys.length; i++) {
    for (let j = 0; j < signatures.length; j++) {
      const ok = keys[i]!.verify(parts, signatures[j]!);
      if (ok instanceof Promise) return finishAsync(keys, parts, signatures, i, j, ok);
      if (ok) return i;
    }
  }
  return -1;
}

async function finishAsync(keys: readonly PublicKeyVerifier[], parts: Parts, signatures: readonly Uint8Array[], i0: number, j0: number, pending: Promise<boolean>): Promise<number> {
  if (await pending) return i0;
  for (let i = i0; i < keys.length; i++) {
    for (let j = i === i0 ? j0 + 1 : 0; j < signatures.length; j++) {
      if (await keys[i]!.verify(parts, signatures[j]!)) return i;
    }
  }
  return -1;
}
