// Public-key signatures for the providers that do not share a secret: Ed25519 (Discord,
// Standard Webhooks v1a) and ECDSA P-256 with SHA-256 (SendGrid), on node:crypto and on
// Web Crypto. Both paths see exactly the same bytes: keys are parsed and validated here,
// once, by the same code, and ECDSA signatures reach both as IEEE P1363 (r || s) after one
// strict DER decoder — node:crypto's DER parser and a hand-written Web one could otherwise
// disagree about a malformed signature.
import type { KeyObject, webcrypto } from "node:crypto";
import { concat, nodeCrypto } from "./crypto";
import { base64ToBytes } from "./encoding";

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

// ---------------------------------------------------------------------------------------
// RSA (PKCS #1 v1.5 with SHA-256) and the little X.509 PayPal needs: the subject public key
// and the validity window of a DER certificate, read by one parser on both paths.

const RSA_ENCRYPTION_OID = Uint8Array.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

interface Tlv {
  /** Offset of the tag byte. */
  readonly at: number;
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** Reads one DER TLV at `at`; `undefined` if it runs past `limit` or its length is not DER. */
function tlv(der: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return start + len > limit ? undefined : { at, tag, start, end: start + len };
}

/** The children of a constructed TLV, in order. */
function children(der: Uint8Array, parent: Tlv): Tlv[] | undefined {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const child = tlv(der, at, parent.end);
    if (!child) return undefined;
    out.push(child);
    at = child.end;
  }
  return out;
}

function parseTime(der: Uint8Array, t: Tlv): number | undefined {
  let s = "";
  for (let i = t.start; i < t.end; i++) s += String.fromCharCode(der[i]!);
  const m = (t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/).exec(s);
  if (!m || (t.tag !== 0x17 && t.tag !== 0x18)) return undefined;
  let year = Number(m[1]);
  // RFC 5280: a two-digit UTCTime year below 50 is 20YY, else 19YY.
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** What hookguard reads from an X.509 certificate. */
export interface CertificateInfo {
  /** The DER SubjectPublicKeyInfo of an RSA key. */
  readonly spki: Uint8Array;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/**
 * Reads an RSA certificate's public key and validity window from DER. `undefined` for
 * anything that is not a well-formed X.509 certificate with an RSA key. The signature on
 * the certificate is not checked here: see the PayPal scheme for where trust comes from.
 */
export function readCertificate(der: Uint8Array): CertificateInfo | undefined {
  const cert = tlv(der, 0, der.byteLength);
  if (!cert || cert.tag !== 0x30 || cert.end !== der.byteLength) return undefined;
  const top = children(der, cert);
  if (!top || top.length !== 3 || top[0]!.tag !== 0x30) return undefined;
  const tbs = children(der, top[0]!);
  if (!tbs) return undefined;
  // version [0] is optional (v1 certificates omit it).
  const f = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs;
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  if (f.length < 6 || f[0]!.tag !== 0x02 || f[3]!.tag !== 0x30 || f[5]!.tag !== 0x30) return undefined;
  const validity = children(der, f[3]!);
  if (!validity || validity.length !== 2) return undefined;
  const notBeforeMs = parseTime(der, validity[0]!);
  const notAfterMs = parseTime(der, validity[1]!);
  if (notBeforeMs === undefined || notAfterMs === undefined) return undefined;
  const spkiTlv = f[5]!;
  const spki = der.subarray(spkiTlv.at, spkiTlv.end);
  const algorithm = children(der, spkiTlv)?.[0];
  if (!algorithm || !startsWith(der.subarray(algorithm.start, algorithm.end), RSA_ENCRYPTION_OID)) return undefined;
  return { spki: spki.slice(), notBeforeMs, notAfterMs };
}

/** The DER of the first `CERTIFICATE` block of a PEM text (a leaf comes before its chain). */
export function firstPemCertificate(pem: string): Uint8Array | undefined {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) return undefined;
  const b64 = m[1]!.replace(/\s+/g, "");
  return b64.length > 0 ? base64ToBytes(b64, false) : undefined;
}

/** Prepares an RSA public key (DER SPKI) for PKCS #1 v1.5 / SHA-256 verification. Throws if it is not one. */
export function rsaPublicKey(spki: Uint8Array, impl: "node" | "web"): PublicKeyVerifier {
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "rsa") throw new TypeError("hookguard: not an RSA public key");
    const c = nodeCrypto;
    return {
      verify(parts, signature) {
        try {
          return c.verify("sha256", concat(parts), key, signature);
        } catch {
          return false;
        }
      },
    };
  }
  const copy = spki.slice();
  let key: Promise<CryptoKey> | undefined;
  return {
    async verify(parts, signature) {
      try {
        key ??= subtle().importKey("spki", copy, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
        return await subtle().verify({ name: "RSASSA-PKCS1-v1_5" }, await key, signature, concat(parts));
      } catch {
        return false;
      }
    },
  };
}

/** Prepares an RSA private key (PKCS #8 DER) for PKCS #1 v1.5 / SHA-256 signing. */
export function rsaPrivateKey(pkcs8: Uint8Array, impl: "node" | "web"): PrivateKeySigner {
  if (impl === "node" && nodeCrypto) {
    const key = nodeCrypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    const c = nodeCrypto;
    return { sign: async (parts) => new Uint8Array(c.sign("sha256", concat(parts), key)) };
  }
  const copy = pkcs8.slice();
  let key: Promise<CryptoKey> | undefined;
  return {
    async sign(parts) {
      key ??= subtle().importKey("pkcs8", copy, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
      return new Uint8Array(await subtle().sign({ name: "RSASSA-PKCS1-v1_5" }, await key, concat(parts)));
    },
  };
}
