/**
 * Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:" + x-zm-request-timestamp + ":" + rawBody>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import { bytesToHex, utf8Encode } from "../internal/encoding";
import { prepareHmacKey, resolveCrypto } from "../internal/crypto";
import { secretList } from "../internal/secrets";
import { assertTolerance, checkWindow, isDigits } from "../internal/timestamp";
import { jsonResponse, type WebhookResponse } from "../response";
import type { SchemeContext, SchemeRequest, VerifiedWebhook, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link zoom}. */
export type ZoomOptions = PresetOptions;

const TIMESTAMP = "x-zm-request-timestamp";
const URL_VALIDATION = "endpoint.url_validation";
// 10^12 ms is September 2001 and 10^12 s is the year 33658: a 13-digit value can only be ms.
const MS_THRESHOLD = 1e12;

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Verifies Zoom webhooks (Marketplace apps: meetings, webinars, phone, …), and answers the
 * signed `endpoint.url_validation` challenge with `{ plainToken, encryptedToken }` when
 * used with a receiver or an adapter — only after the challenge itself verified, so the
 * endpoint is never an HMAC oracle for strings an attacker chooses.
 *
 * - The secret is the app's Secret Token.
 * - The raw body is verified. (Zoom's sample app and the Rivet SDK hash
 *   `JSON.stringify(parsedBody)`, which differs from what Zoom signed whenever the body
 *   contains non-ASCII escapes or spacing JSON.stringify would not reproduce.)
 * - The timestamp window is ±300 s. Zoom's sources disagree on the unit of
 *   `x-zm-request-timestamp`; a 13-digit value is read as milliseconds, a shorter one as
 *   seconds. Rivet checks no window at all.
 * - `type` is the body's `event` (`meeting.started`); Zoom sends no event id, so `id` is
 *   `undefined`: deduplicate on a field of the event if you need to.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { zoom, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, zoom({ secret: process.env.ZOOM_SECRET_TOKEN! }));
 * ```
 */
export function zoom<TPayload = Record<string, unknown>>(options: ZoomOptions): WebhookScheme<TPayload> {
  const where = "zoom()";
  const toleranceSeconds = assertTolerance(options?.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);
  const inner = buildHmacScheme<TPayload>(
    {
      name: "zoom",
      secret: options?.secret,
      // The window is checked below, unit-aware; the inner scheme only reads the digits.
      toleranceSeconds: Number.POSITIVE_INFINITY,
      crypto: options?.crypto,
      signature: { header: "x-zm-signature", encoding: "hex", prefix: "v0=" },
      timestamp: { header: TIMESTAMP, unit: "s" },
      signedContent: "v0:{timestamp}:{body}",
      type: { body: "event" },
    },
    where,
  );
  const impl = resolveCrypto(options?.crypto);
  const keys = secretList(options.secret, where).map((s) => prepareHmacKey("sha256", utf8Encode(s), impl));
  // The answer to a verified url_validation, computed while verifying (Web Crypto is async,
  // `handshake` is not) and looked up by the event object the receiver passes back.
  const answers = new WeakMap<object, WebhookResponse>();

  async function withAnswer(outcome: VerifyOutcome<TPayload>): Promise<VerifyOutcome<TPayload>> {
    if (!outcome.ok || outcome.webhook.type !== URL_VALIDATION) return outcome;
    const plainToken = field(field(outcome.webhook.payload, "payload"), "plainToken");
    if (typeof plainToken !== "string") return outcome;
    const encryptedToken = bytesToHex(await keys[outcome.webhook.secretIndex]!.sign([plainToken]));
    answers.set(outcome.webhook, jsonResponse(200, { plainToken, encryptedToken }));
    return outcome;
  }

  function fix(outcome: VerifyOutcome<TPayload>, timestampMs: number): VerifyOutcome<TPayload> | Promise<VerifyOutcome<TPayload>> {
    if (!outcome.ok) return outcome;
    const webhook = { ...outcome.webhook, timestamp: new Date(timestampMs) };
    const fixed = { ok: true as const, webhook };
    return webhook.type === URL_VALIDATION ? withAnswer(fixed) : fixed;
  }

  return {
    name: "zoom",
    toleranceSeconds,
    handshake(event: VerifiedWebhook<TPayload>) {
      return answers.get(event);
    },
    verify(req: SchemeRequest, ctx: SchemeContext) {
      const raw = req.header(TIMESTAMP);
      // Missing or non-numeric: the inner scheme reports it with the right code.
      if (raw === undefined || !isDigits(raw)) return inner.verify(req, ctx);
      const n = Number(raw);
      const timestampMs = n >= MS_THRESHOLD ? n : n * 1000;
      const tooFar = checkWindow(timestampMs, ctx.nowMs, ctx.toleranceSeconds ?? toleranceSeconds, TIMESTAMP);
      if (tooFar) return tooFar;
      const outcome = inner.verify(req, { nowMs: ctx.nowMs, toleranceSeconds: Number.POSITIVE_INFINITY });
      return outcome instanceof Promise ? outcome.then((o) => fix(o, timestampMs)) : fix(outcome, timestampMs);
    },
    sign: inner.sign,
  };
}
