// Tampering: change one byte of the body, one character of the id, the timestamp or the
// signature of a correctly signed request, and the outcome is the one an independent
// model of the scheme predicts — on both crypto paths.
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CASES,
  SIGNED_ID,
  TIMESTAMPED,
  expectBe,
  expectEqual,
  expectedOk,
  idArb,
  inWindow,
  matrix,
  nowArb,
  params,
  propTimeout,
  replaceAt,
  requestOf,
  requestOutcome,
  signRequest,
  toleranceArb,
  verifyError,
  verifyOutcome,
  writtenName,
  jsonText,
  type Encoding,
  type Outcome,
  type SchemeCase,
  type Sent,
  type Unit,
} from "./support";

function clockArb(c: SchemeCase) {
  return fc.tuple(nowArb, toleranceArb).chain(([now, tolerance]) => inWindow(now, tolerance, c.timestamp?.unit).map((timestampMs) => ({ now, tolerance, timestampMs })));
}

const sentFor = (timestampMs: number, id = "msg_tamper"): Sent => ({ id, type: "tamper.test", timestampMs, url: "https://example.com/hooks?x=1", method: "POST" });

/** An arbitrary body: JSON text, Unicode text, or bytes that are not UTF-8 at all. */
const anyBody = fc.oneof(jsonText, fc.string({ unit: "grapheme", minLength: 1 }), fc.uint8Array({ minLength: 1, maxLength: 400 }));

// --- signature model ----------------------------------------------------------------

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX_DIGITS = "0123456789abcdefABCDEF";

/** Characters a tamper writes into the signature: its alphabet, and characters outside it (separators included). */
function signatureChars(encoding: Encoding): fc.Arbitrary<string> {
  const alphabet = encoding === "hex" ? HEX_DIGITS : BASE64_ALPHABET;
  const outside = encoding === "hex" ? ["g", "G", "x", "-", "=", " ", ",", ";", "é", "\u0000", "０"] : ["=", "-", "_", ".", " ", ",", ";", "é", "\u0000"];
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...alphabet) }, { weight: 1, arbitrary: fc.constantFrom(...outside) });
}

/**
 * What a one-character change to an encoded digest must give. Hex is read in either case
 * (the same bytes verify); base64 must stay canonical: a changed character outside the
 * alphabet, in the padding, or setting the unused low bits of the last character before
 * the padding is not a valid encoding of the digest at all.
 */
function signatureModel(encoding: Encoding, encoded: string, index: number, replacement: string): true | "signature_mismatch" | "malformed_header" {
  if (encoding === "hex") {
    if (!/^[0-9a-fA-F]$/.test(replacement)) return "malformed_header";
    return Number.parseInt(replacement, 16) === Number.parseInt(encoded[index]!, 16) ? true : "signature_mismatch";
  }
  const value = BASE64_ALPHABET.indexOf(replacement);
  if (value < 0) return "malformed_header";
  const padding = encoded.length - encoded.replace(/=+$/, "").length;
  const last = encoded.length - padding - 1;
  if (index > last) return "malformed_header";
  const unusedBits = padding === 1 ? 2 : padding === 2 ? 4 : 0;
  if (index === last && (value & ((1 << unusedBits) - 1)) !== 0) return "malformed_header";
  return "signature_mismatch";
}

// --- timestamp model ----------------------------------------------------------------

const TIMESTAMP_CHARS = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(..."0123456789") },
  { weight: 1, arbitrary: fc.constantFrom("a", "-", "+", ".", "e", "x", " ", "Z", "T", ":", "\u00A0", "１", "٣") },
);

function parseModel(raw: string, unit: Unit): number | undefined {
  if (unit === "rfc3339") {
    if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(raw)) return undefined;
    const ms = Date.parse(raw);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!/^[0-9]{1,16}$/.test(raw)) return undefined;
  const ms = Number(raw) * (unit === "s" ? 1000 : 1);
  // Past the largest Date, a timestamp cannot be represented: malformed too.
  return ms <= 8.64e15 ? ms : undefined;
}

/** The code a changed timestamp must give, computed from its new value. */
function timestampModel(raw: string, unit: Unit, now: number, toleranceSeconds: number): string {
  const ms = parseModel(raw, unit);
  if (ms === undefined) return "malformed_header";
  if (now - ms > toleranceSeconds * 1000) return "timestamp_too_old";
  if (ms - now > toleranceSeconds * 1000) return "timestamp_too_new";
  // Inside the window, but not the timestamp that was signed.
  return "signature_mismatch";
}

describe.each(matrix())("tamper: %s (%s crypto)", (_label, impl, c) => {
  it("any single byte of the body changed → signature_mismatch (and the message leaks neither secret nor signature)", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, anyBody, fc.nat(), fc.integer({ min: 1, max: 255 }), clockArb(c), async (secret, raw, at, delta, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const bytes = Buffer.from(typeof raw === "string" ? Buffer.from(raw, "utf8") : raw);
        const signed = await signRequest(c, scheme, bytes, sentFor(clock.timestampMs));
        const tampered = Buffer.from(bytes);
        const i = at % tampered.length;
        tampered[i] = (tampered[i]! + delta) & 0xff;
        const error = await verifyError(scheme, requestOf(signed, signed.headers, tampered), { now: clock.now });
        expectBe(error.code, "signature_mismatch");
        const sigHeader = signed.headers[writtenName(signed.headers, c.signature.read)]!;
        const [start, end] = c.signature.span(sigHeader);
        const digest = sigHeader.slice(start, end);
        if (error.message.includes(digest)) expect(error.message).not.toContain(digest);
        if (secret.length >= 8 && error.message.includes(secret)) expect(error.message).not.toContain(secret);
      }),
      params(),
    );
  }, propTimeout(0.34));

  it("any character of the signature changed → signature_mismatch if still a valid encoding of the right length, else malformed_header", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, fc.nat(), signatureChars(c.signature.encoding), clockArb(c), async (secret, text, at, replacement, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs));
        const name = writtenName(signed.headers, c.signature.read);
        const value = signed.headers[name]!;
        const [start, end] = c.signature.span(value);
        const encoded = value.slice(start, end);
        expectBe(encoded.length, c.signature.encoding === "hex" ? c.digestBytes * 2 : Math.ceil(c.digestBytes / 3) * 4);
        const i = at % encoded.length;
        fc.pre(encoded[i] !== replacement);
        const model = signatureModel(c.signature.encoding, encoded, i, replacement);
        const headers = { ...signed.headers, [name]: replaceAt(value, start + i, replacement) };
        const expected: Outcome = model === true ? expectedOk(c, signed, 0) : { ok: false, code: model };
        expectEqual(await verifyOutcome(scheme, requestOf(signed, headers), { now: clock.now }), expected);
        expectEqual(await requestOutcome(scheme, requestOf(signed, headers), { now: clock.now }), expected);
      }),
      params(),
    );
  }, propTimeout(0.39));

  it("characters inserted into or removed from the signature → malformed_header (a lenient decoder would stop early and match)", async () => {
    const alphabet = c.signature.encoding === "hex" ? HEX_DIGITS : BASE64_ALPHABET;
    // No whitespace or separators: a `key=value` entry is trimmed and split, which would undo the change.
    const inserted = fc.string({ unit: fc.constantFrom(...alphabet, "=", "-", "_", "g", "é", "\u0000"), minLength: 1, maxLength: 4 });
    const change = fc.oneof(inserted.map((s) => ({ insert: s, remove: 0 })), fc.integer({ min: 1, max: 4 }).map((n) => ({ insert: "", remove: n })));
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, fc.nat(), change, clockArb(c), async (secret, text, at, { insert, remove }, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs));
        const name = writtenName(signed.headers, c.signature.read);
        const value = signed.headers[name]!;
        const [start, end] = c.signature.span(value);
        const i = start + (at % (end - start + 1 - remove));
        const headers = { ...signed.headers, [name]: value.slice(0, i) + insert + value.slice(i + remove) };
        const expected = { ok: false, code: "malformed_header" };
        expectEqual(await verifyOutcome(scheme, requestOf(signed, headers), { now: clock.now }), expected);
        expectEqual(await requestOutcome(scheme, requestOf(signed, headers), { now: clock.now }), expected);
      }),
      params(),
    );
  }, propTimeout(0.35));

  it("the request verifies untouched (the tamper properties start from a valid request)", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, clockArb(c), async (secret, text, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs));
        expectEqual(await verifyOutcome(scheme, requestOf(signed), { now: clock.now }), expectedOk(c, signed, 0));
      }),
      params(),
    );
  }, propTimeout(0.42));
});

describe.each(matrix(TIMESTAMPED))("tamper timestamp: %s (%s crypto)", (_label, impl, c) => {
  const ts = c.timestamp!;
  it("timestamp changed → the code its new value calls for (malformed, too old, too new, or signature_mismatch inside the window)", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, fc.nat(), TIMESTAMP_CHARS, clockArb(c), async (secret, text, at, replacement, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs));
        const name = ts.read ? writtenName(signed.headers, ts.read) : writtenName(signed.headers, c.signature.read);
        const value = signed.headers[name]!;
        const [start, end] = ts.span ? ts.span(value) : [0, value.length];
        const i = start + (at % (end - start));
        fc.pre(value[i] !== replacement);
        const tampered = replaceAt(value, i, replacement);
        // An entry of the signature header is trimmed, as `key=value` pairs are.
        const newRaw = ts.span ? tampered.slice(start, end).trim() : tampered;
        const expected = timestampModel(newRaw, ts.unit, clock.now, clock.tolerance);
        const headers = { ...signed.headers, [name]: tampered };
        expectEqual(await verifyOutcome(scheme, requestOf(signed, headers), { now: clock.now }), { ok: false, code: expected });
        expectEqual(await requestOutcome(scheme, requestOf(signed, headers), { now: clock.now }), { ok: false, code: expected });
      }),
      params(),
    );
  }, propTimeout(0.46));

  it("a valid timestamp just outside the window → timestamp_too_old / timestamp_too_new, before any HMAC", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, nowArb, toleranceArb, fc.boolean(), fc.integer({ min: 1, max: 10 * 86_400_000 }), async (secret, now, tolerance, old, beyondMs) => {
        const scheme = c.make(secret, impl, tolerance);
        const step = ts.unit === "s" ? 1000 : 1;
        const edge = old ? now - tolerance * 1000 : now + tolerance * 1000;
        // The first representable instant past the edge, and further.
        let timestampMs = old ? edge - beyondMs : edge + beyondMs;
        timestampMs = old ? Math.floor(timestampMs / step) * step : Math.ceil(timestampMs / step) * step;
        const signed = await signRequest(c, scheme, "{}", sentFor(timestampMs));
        expectEqual(await verifyOutcome(scheme, requestOf(signed), { now }), { ok: false, code: old ? "timestamp_too_old" : "timestamp_too_new" });
      }),
      params(),
    );
  }, propTimeout(0.27));
});

describe.each(matrix(SIGNED_ID))("tamper id: %s (%s crypto)", (_label, impl, c) => {
  const idRead = c.signedId!.read;
  it("any character of the id changed → signature_mismatch", async () => {
    const codePoint = fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })).map((n) => String.fromCodePoint(n));
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, idArb, fc.nat(), codePoint, clockArb(c), async (secret, text, id, at, replacement, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs, id));
        const name = writtenName(signed.headers, idRead);
        expectBe(signed.headers[name], id);
        const chars = Array.from(id);
        const i = at % chars.length;
        fc.pre(chars[i] !== replacement);
        chars[i] = replacement;
        const headers = { ...signed.headers, [name]: chars.join("") };
        expectEqual(await verifyOutcome(scheme, requestOf(signed, headers), { now: clock.now }), { ok: false, code: "signature_mismatch" });
      }),
      params(),
    );
  }, propTimeout(0.32));
});

describe.each(matrix(CASES.filter((c) => c.signsUrl)))("tamper url: %s (%s crypto)", (_label, impl, c) => {
  it("another URL or method → signature_mismatch", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, jsonText, fc.webUrl(), fc.constantFrom("POST", "PUT", "GET", "post"), clockArb(c), async (secret, text, url, method, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const signed = await signRequest(c, scheme, text, sentFor(clock.timestampMs));
        fc.pre(url !== signed.url || method !== "POST");
        const expected = { ok: false, code: "signature_mismatch" };
        expectEqual(await verifyOutcome(scheme, { body: text, headers: signed.headers, url, method }, { now: clock.now }), expected);
      }),
      params(),
    );
  }, propTimeout(0.28));
});
