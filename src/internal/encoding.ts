// Strict decoders shared by both crypto paths, so node:crypto and Web Crypto see the same
// bytes for the same header. Buffer's own decoders are lenient (they stop at the first bad
// character), which would let a malformed signature decode to a shorter, different value.

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Canonical base64 (RFC 4648 §3.5): the unused low bits of the character before the
// padding are zero. Decoders ignore those bits, so without this one signature would verify
// under 4 spellings (16 for SHA-512), and a changed character would still pass. Before "=="
// (4 unused bits) only these 4 characters qualify, before "=" (2 bits) these 16.
const LAST_BEFORE_TWO_PADS = "AQgw";
const LAST_BEFORE_ONE_PAD = "AEIMQUYcgkosw048";
const CANONICAL_BASE64_RE = new RegExp(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][${LAST_BEFORE_TWO_PADS}]==|[A-Za-z0-9+/]{2}[${LAST_BEFORE_ONE_PAD}]=)?$`);

const textEncoder = new TextEncoder();
// ignoreBOM keeps a leading BOM, as Buffer#toString does: both paths decode alike.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

// The value of each hex digit by character code, -1 for anything else.
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
  HEX_VALUE["0123456789ABCDEF".charCodeAt(i)] = i;
}

/**
 * Decodes hex (either case); `undefined` if the string is not hex of whole bytes. The same
 * answer on every runtime: Node's native decoder where there is one, made strict, and a
 * table-driven loop elsewhere ({@link hexToBytesPortable}; tests hold the two to the same
 * result for every string).
 */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if (!NodeBuffer) return hexToBytesPortable(hex);
  const length = hex.length;
  // Buffer's hex decoder stops at the first pair that is not hex (a short result gives it
  // away) but reads a character above U+00FF by its low byte ("\u0130" as "0"): only an
  // ASCII string, whose UTF-8 length is its length, is handed to it. Both checks are
  // native: a JavaScript loop over a signature's 64 characters costs more than the rest of
  // the header parsing together (callgrind, 1 KiB Stripe verify: 2 k instructions).
  if (length % 2 !== 0 || NodeBuffer.byteLength(hex, "utf8") !== length) return undefined;
  const out = NodeBuffer.from(hex, "hex");
  return out.byteLength * 2 === length ? out : undefined;
}

/**
 * {@link hexToBytes} without Buffer: one pass that checks and decodes by table lookup.
 * @internal exported for the tests that hold both decoders to one answer
 */
export function hexToBytesPortable(hex: string): Uint8Array | undefined {
  const length = hex.length;
  if (length % 2 !== 0) return undefined;
  const out = new Uint8Array(length / 2);
  for (let i = 0, j = 0; i < length; i += 2, j++) {
    const hi = hex.charCodeAt(i);
    const lo = hex.charCodeAt(i + 1);
    const h = hi < 128 ? HEX_VALUE[hi]! : -1;
    const l = lo < 128 ? HEX_VALUE[lo]! : -1;
    if ((h | l) < 0) return undefined;
    out[j] = (h << 4) | l;
  }
  return out;
}

/**
 * Decodes padded standard base64; `undefined` if the string is not exactly that. Signatures
 * must be canonical; `canonical: false` accepts set unused bits, as secret strings may have.
 */
export function base64ToBytes(b64: string, canonical = true): Uint8Array | undefined {
  if (!(canonical && NodeBuffer)) return base64ToBytesPortable(b64, canonical);
  // Buffer's decoder is lenient: it skips characters outside its alphabet and stops at a
  // misplaced "=" (either way fewer bytes come out than the length promises), reads "-" and
  // "_" as "+" and "/", and reads a character beyond ASCII by its low byte. So the string is
  // canonical standard base64 exactly when the byte count is the one its length and padding
  // promise, it is ASCII without "-" or "_", and the last character before the padding
  // carries no set bit past the data. Three native scans of the string: cheaper than
  // re-encoding the bytes to compare (~140 ns a Standard Webhooks verify, session 15) or the
  // regex. Tests hold both paths to one answer for every string.
  const n = b64.length;
  if (n % 4 !== 0) return undefined;
  const pad = n === 0 || b64.charCodeAt(n - 1) !== EQUALS ? 0 : b64.charCodeAt(n - 2) !== EQUALS ? 1 : 2;
  const out = NodeBuffer.from(b64, "base64");
  if (out.byteLength !== (n / 4) * 3 - pad) return undefined;
  if (NodeBuffer.byteLength(b64, "utf8") !== n || b64.indexOf("-") !== -1 || b64.indexOf("_") !== -1) return undefined;
  // The character before the padding has unused bits, which must be zero.
  if (pad !== 0 && !(pad === 1 ? LAST_BEFORE_ONE_PAD : LAST_BEFORE_TWO_PADS).includes(b64[n - 1 - pad]!)) return undefined;
  return out;
}

const EQUALS = 0x3d;

/**
 * {@link base64ToBytes} by regex (then Buffer or atob to decode what it accepted).
 * @internal exported for the tests that hold both paths to one answer
 */
export function base64ToBytesPortable(b64: string, canonical = true): Uint8Array | undefined {
  if (b64.length % 4 !== 0 || !(canonical ? CANONICAL_BASE64_RE : BASE64_RE).test(b64)) return undefined;
  if (NodeBuffer) return NodeBuffer.from(b64, "base64");
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes bytes as lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Encodes bytes as padded standard base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** UTF-8 bytes of a string. */
export function utf8Encode(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** Decodes UTF-8 (invalid sequences become U+FFFD; a BOM is kept). */
export function utf8Decode(bytes: Uint8Array): string {
  if (NodeBuffer) {
    // toString() without an encoding goes straight to the UTF-8 decoder.
    return NodeBuffer.isBuffer(bytes)
      ? bytes.toString()
      : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
  return textDecoder.decode(bytes);
}

/** The body as a string, decoding bytes as UTF-8. */
export function bodyText(body: string | Uint8Array): string {
  return typeof body === "string" ? body : utf8Decode(body);
}
