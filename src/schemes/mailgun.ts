/**
 * Mailgun: the signature travels **inside the body** — `signature.{timestamp, token,
 * signature}` in JSON webhooks, `timestamp`, `token`, `signature` form fields in legacy ones
 * — and is a hex HMAC-SHA256 of `timestamp + token`. **The event data is not signed.**
 *
 * @module
 */
import { prepareHmacKey, randomId, resolveCrypto, timingSafeEqual, type CryptoPreference, type HmacKey } from "../internal/crypto";
import { bytesToHex, hexToBytes, utf8Encode } from "../internal/encoding";
import { isFormContentType, parsePayload, readPath } from "../internal/payload";
import { secretList } from "../internal/secrets";
import { assertTolerance, checkWindow, formatTimestamp, parseTimestamp } from "../internal/timestamp";
import type { SchemeContext, SchemeRequest, VerifyFailure, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link mailgun}. */
export interface MailgunOptions {
  /** The HTTP webhook signing key (Sending → Webhooks); several while you rotate. */
  readonly secret: string | readonly string[];
  /** Accepted clock difference, both ways, in seconds, on the signed timestamp. @default 300 */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

/** Options of {@link signMailgunBody}. */
export interface MailgunSignOptions {
  /** The HTTP webhook signing key. */
  readonly secret: string;
  /** The timestamp to sign. @default now */
  readonly timestamp?: Date | number;
  /** The token to sign. @default 50 random hex characters */
  readonly token?: string;
  /** Forces an implementation. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const HEX64_RE = /^[0-9a-fA-F]{64}$/;

interface Fields {
  readonly timestamp: string | undefined;
  readonly token: string | undefined;
  readonly signature: string | undefined;
  readonly type: string | undefined;
}

function fields(payload: unknown, form: boolean): Fields {
  const at = form ? [] : ["signature"];
  return {
    timestamp: readPath(payload, [...at, "timestamp"]),
    token: readPath(payload, [...at, "token"]),
    signature: readPath(payload, [...at, "signature"]),
    type: form ? readPath(payload, ["event"]) : readPath(payload, ["event-data", "event"]),
  };
}

function missing(field: string): VerifyFailure {
  return { ok: false, code: "missing_header", detail: `the body has no ${field} field: Mailgun signs inside the body, not in a header` };
}

/**
 * Verifies Mailgun webhooks (JSON, and legacy form-encoded ones).
 *
 * **Mailgun does not sign the body.** Its signature covers only a timestamp and a random
 * token, so anyone who captured one signed request can attach that signature to a body of
 * their own. What this scheme can prove is that the (timestamp, token, signature) triple was
 * made by Mailgun, recently:
 *
 * - the window is ±300 s by default: keep it short;
 * - `id` is the signed `token`, so with a receiver and its idempotency store a token is
 *   accepted once — a captured signature cannot be replayed with another body inside the
 *   dedupe window;
 * - `type` (`event-data.event`) and the whole `payload` are NOT authenticated: before acting
 *   on one, fetch the event from Mailgun's API by its id if it matters.
 *
 * The body is parsed before verification (the signature is inside it). Signing helper for
 * tests: {@link signMailgunBody}; `signWebhook` cannot put a signature into a body and throws.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { mailgun, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, mailgun({ secret: process.env.MAILGUN_SIGNING_KEY! }));
 * ```
 */
export function mailgun<TPayload = Record<string, unknown>>(options: MailgunOptions): WebhookScheme<TPayload> {
  const where = "mailgun()";
  const impl = resolveCrypto(options?.crypto);
  const keys: HmacKey[] = secretList(options?.secret, where).map((s) => prepareHmacKey("sha256", utf8Encode(s), impl));
  const toleranceSeconds = assertTolerance(options.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);

  function done(req: SchemeRequest, payload: unknown, f: Fields, timestampMs: number, index: number): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", detail: "the body's signature does not match its timestamp and token" };
    return { ok: true, webhook: { id: f.token, type: f.type, timestamp: new Date(timestampMs), payload: payload as TPayload, rawBody: req.body, scheme: "mailgun", secretIndex: index } };
  }

  return {
    name: "mailgun",
    toleranceSeconds,
    verify(req: SchemeRequest, ctx: SchemeContext) {
      const contentType = req.header("content-type");
      const parsed = parsePayload(req.body, contentType);
      if (parsed === undefined) return { ok: false, code: "invalid_json", detail: "Mailgun's signature is inside the body, so it must be parsed first" };
      const f = fields(parsed.value, isFormContentType(contentType));
      if (f.signature === undefined) return missing(isFormContentType(contentType) ? "signature" : "signature.signature");
      if (!HEX64_RE.test(f.signature)) return { ok: false, code: "malformed_header", detail: "the body's signature is not 64 hex digits" };
      if (f.timestamp === undefined) return { ok: false, code: "timestamp_missing", detail: "the body has no signature timestamp" };
      const timestampMs = parseTimestamp(f.timestamp, "s");
      if (timestampMs === undefined) return { ok: false, code: "malformed_header", detail: "the body's signature timestamp is not a whole number of seconds" };
      const tooFar = checkWindow(timestampMs, ctx.nowMs, ctx.toleranceSeconds ?? toleranceSeconds, undefined);
      if (tooFar) return tooFar;
      if (f.token === undefined) return missing(isFormContentType(contentType) ? "token" : "signature.token");
      const expected = hexToBytes(f.signature)!;
      // HMAC of timestamp + token: `mac`, the HMAC schemes' one-call path on node:crypto.
      const { timestamp, token } = f;
      if (impl === "web") {
        return (async () => {
          for (let i = 0; i < keys.length; i++) if (timingSafeEqual(await keys[i]!.mac(timestamp, token, ""), expected, impl)) return done(req, parsed.value, f, timestampMs, i);
          return done(req, parsed.value, f, timestampMs, -1);
        })();
      }
      for (let i = 0; i < keys.length; i++) if (timingSafeEqual(keys[i]!.mac(timestamp, token, "") as Uint8Array, expected, impl)) return done(req, parsed.value, f, timestampMs, i);
      return done(req, parsed.value, f, timestampMs, -1);
    },
    sign() {
      return Promise.reject(new TypeError(`hookguard: ${where}: Mailgun signs inside the body, which signWebhook cannot change: build the body with signMailgunBody(eventData, { secret })`));
    },
  };
}

/**
 * Builds a Mailgun JSON webhook body, `{ "signature": { timestamp, token, signature },
 * "event-data": eventData }`, signed the way Mailgun signs it. For tests and local tools.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { signMailgunBody } from "hookguard";
 * const body = await signMailgunBody({ event: "delivered", id: "abc" }, { secret: "key-test" });
 * ```
 */
export async function signMailgunBody(eventData: unknown, options: MailgunSignOptions): Promise<string> {
  const where = "signMailgunBody()";
  const [secret] = secretList(options?.secret, where);
  const ms = options.timestamp === undefined ? Date.now() : options.timestamp instanceof Date ? options.timestamp.getTime() : options.timestamp;
  if (!Number.isFinite(ms)) throw new TypeError(`hookguard: ${where}: \`timestamp\` must be a Date or epoch milliseconds`);
  const timestamp = formatTimestamp(ms, "s");
  const token = options.token ?? (randomId() + randomId()).replace(/-/g, "").slice(0, 50);
  const key = prepareHmacKey("sha256", utf8Encode(secret!), resolveCrypto(options.crypto));
  const signature = bytesToHex(await key.sign([timestamp, token]));
  return JSON.stringify({ signature: { timestamp, token, signature }, "event-data": eventData });
}
