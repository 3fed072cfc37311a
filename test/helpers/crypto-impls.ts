// Shared by the interop, fixture and unit suites: the two crypto paths every test runs on,
// the body shapes a request can carry, and random JSON bodies for property runs.
import fc from "fast-check";
import { expect } from "vitest";
import { isWebhookError, type WebhookErrorCode, type WebhookVerificationError } from "../../src/errors";

/** Both implementations: node:crypto (the fast path) and Web Crypto forced on Node (the edge path). */
export const CRYPTO_IMPLS = ["node", "web"] as const;
export type CryptoImpl = (typeof CRYPTO_IMPLS)[number];

/** The ways a raw body reaches `verifyWebhook`. */
export const BODY_SHAPES = ["string", "buffer", "uint8array", "arraybuffer"] as const;
export type BodyShape = (typeof BODY_SHAPES)[number];

/** The same bytes as a string, a Buffer, a plain Uint8Array or an ArrayBuffer. */
export function bodyAs(body: string | Uint8Array, shape: BodyShape): string | Uint8Array | ArrayBuffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  switch (shape) {
    case "string":
      return typeof body === "string" ? body : bytes.toString("utf8");
    case "buffer":
      return bytes;
    case "uint8array":
      return new Uint8Array(bytes);
    case "arraybuffer":
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
}

/** Awaits a promise that must reject with a hookguard error, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  let settled: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    settled = { ok: true, value: await promise };
  } catch (error) {
    settled = { ok: false, error };
  }
  if (settled.ok) throw new Error(`expected a rejection, but it resolved to ${JSON.stringify(settled.value)?.slice(0, 200)}`);
  // `expect` only on a failure: property runs call this 10^4-10^5 times, and an `expect`
  // call costs more than the check.
  if (!isWebhookError(settled.error)) expect(isWebhookError(settled.error)).toBe(true);
  return settled.error as WebhookVerificationError;
}

/** Asserts that a promise rejects with a hookguard error carrying `code`. */
export async function expectCode(promise: Promise<unknown>, code: WebhookErrorCode): Promise<WebhookVerificationError> {
  const error = await rejection(promise);
  if (error.code !== code) expect(error.code).toBe(code);
  return error;
}

/** Printable text with non-ASCII graphemes (accents, CJK, emoji). */
const unicodeText = fc.string({ unit: "grapheme", maxLength: 40 });
/** Any UTF-16 code units, lone surrogates included: JSON.stringify escapes those. */
const binaryText = fc.string({ unit: "binary", maxLength: 40 });

/** A random event object with an id and a type, plus text and bytes-derived fields. */
export const eventObject = fc.record({
  id: fc.string({ minLength: 1, maxLength: 24 }).map((s) => `evt_${s}`),
  type: fc.constantFrom("invoice.paid", "customer.created", "push", "orders/create", "user.created"),
  data: fc.record({
    text: unicodeText,
    binary: binaryText,
    // Raw bytes seen as latin1 and as UTF-8 text: every byte value, and U+FFFD replacements.
    latin1: fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b).toString("latin1")),
    utf8: fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b).toString("utf8")),
    n: fc.integer(),
  }),
});

/**
 * A random JSON body, serialised with varying indentation (a provider's exact bytes are
 * what is signed, not the parsed value) and always with some non-ASCII text.
 */
export const jsonBody = fc
  .tuple(eventObject, fc.constantFrom(0, 1, 2, "\t"))
  .map(([event, indent]) => ({ event, body: JSON.stringify({ ...event, note: "ünïcødé ✓ 🚀 日本" }, null, indent) }));

/** Flips one bit of one byte of the body: any change at all must break the signature. */
export function tamperBody(body: string, index: number): Buffer {
  const bytes = Buffer.from(body, "utf8");
  bytes[index % bytes.length]! ^= 0x01;
  return bytes;
}

/** Replaces one hex digit by another at a position, keeping the length and the alphabet. */
export function tamperHex(hex: string, index: number): string {
  const i = index % hex.length;
  const c = hex[i]!;
  const replacement = c === "0" ? "1" : "0";
  return hex.slice(0, i) + replacement + hex.slice(i + 1);
}

/**
 * Replaces one base64 character by another, at a position whose 6 bits all belong to the
 * decoded bytes (the character before the padding may carry unused bits).
 */
export function tamperBase64(b64: string, index: number): string {
  const body = b64.replace(/=+$/, "");
  const i = index % (body.length - 1);
  const c = body[i]!;
  const replacement = c === "A" ? "B" : "A";
  return b64.slice(0, i) + replacement + b64.slice(i + 1);
}
