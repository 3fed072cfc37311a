/**
 * Typed errors. Every failure hookguard reports is a {@link WebhookError} with a stable
 * string `code` and the HTTP `status` a receiver should answer with.
 *
 * @module
 */

/** Codes a {@link WebhookVerificationError} can carry. Stable across releases. */
export type WebhookVerificationErrorCode =
  /** A header the scheme needs is absent (e.g. `Stripe-Signature`). 400. */
  | "missing_header"
  /** A header is present but not in the provider's format. 400. */
  | "malformed_header"
  /** The scheme signs a timestamp, but the request carries none. 400. */
  | "timestamp_missing"
  /** The signed timestamp is older than the tolerance allows: a replay or a slow clock. 401. */
  | "timestamp_too_old"
  /** The signed timestamp is further in the future than the tolerance allows. 401. */
  | "timestamp_too_new"
  /** No signature in the request matches the raw body under any configured secret. 401. */
  | "signature_mismatch"
  /** The signature matched but the body is not valid JSON. 400. */
  | "invalid_json"
  /** The body was already parsed (e.g. by `express.json()`), so the raw bytes are gone. 500. */
  | "body_not_raw"
  /** The body is larger than `maxBodyBytes`. 413. */
  | "payload_too_large"
  /** The provider signs the request URL, and this server does not know its public URL (configure `url` or `baseUrl`). 500. */
  | "url_unknown";

/** Codes of the receiver's own failures (never a verification problem). */
export type WebhookReceiverErrorCode =
  /** The idempotency store could not be reached or failed: answered 503, nothing handled. */
  | "store_unavailable"
  /** A handler threw: the claim was released, answered 500 so the provider retries. */
  | "handler_failed"
  /** The verified event has no id to deduplicate on and the receiver is set to reject such events. 400. */
  | "missing_event_id"
  /** A handler finished after its lease expired: another delivery may have run it too. */
  | "lease_lost"
  /** Handing the event to the background queue failed: released, answered 503. */
  | "enqueue_failed"
  /** The event's payload version is neither the current one nor upgradable to it. 422. */
  | "unsupported_version";

/** Every code hookguard's errors can carry. */
export type WebhookErrorCode = WebhookVerificationErrorCode | WebhookReceiverErrorCode;

/**
 * The HTTP status each verification code answers with.
 *
 * @example
 * ```ts
 * import { verificationErrorStatus } from "hookguard";
 * verificationErrorStatus.signature_mismatch; // 401
 * verificationErrorStatus.body_not_raw; // 500: the server's setup, not the sender, is wrong
 * ```
 */
export const verificationErrorStatus: Readonly<Record<WebhookVerificationErrorCode, number>> = Object.freeze({
  missing_header: 400,
  malformed_header: 400,
  timestamp_missing: 400,
  // A stale or future timestamp is an authentication failure like a bad signature, and
  // 401 is what Discord and others expect for anything that does not authenticate.
  timestamp_too_old: 401,
  timestamp_too_new: 401,
  signature_mismatch: 401,
  invalid_json: 400,
  // The request is fine; our own server is misconfigured: a 4xx would blame the sender.
  body_not_raw: 500,
  payload_too_large: 413,
  // Like body_not_raw: our configuration is missing, not the sender's request wrong.
  url_unknown: 500,
});

const ERROR_BRAND = "hookguard.WebhookError";

/** Options accepted by the {@link WebhookError} constructor. */
export interface WebhookErrorOptions {
  /** The HTTP status to answer with. */
  status: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error hookguard throws on purpose.
 *
 * @example
 * ```ts
 * import { isWebhookError } from "hookguard";
 * try { await verifyWebhook(req, scheme) } catch (e) {
 *   if (isWebhookError(e)) res.status(e.status).send(e.code)
 * }
 * ```
 */
export class WebhookError extends Error {
  /** A stable machine-readable code. */
  readonly code: WebhookErrorCode;
  /** The HTTP status a receiver should answer with. */
  readonly status: number;

  constructor(code: WebhookErrorCode, message: string, options: WebhookErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WebhookError";
    this.code = code;
    this.status = options.status;
    // A brand that survives realms and the per-entry copies tsup's CJS output makes.
    Object.defineProperty(this, Symbol.for(ERROR_BRAND), { value: true });
  }
}

/**
 * The request did not prove that it comes from the provider, or its body cannot be used.
 * Never carries a secret or a computed signature in its message. `status` follows from
 * `code` ({@link verificationErrorStatus}).
 *
 * @example
 * ```ts
 * import { isWebhookVerificationError, stripe, verifyWebhook } from "hookguard";
 *
 * try {
 *   await verifyWebhook({ body: rawBody, headers }, stripe({ secret }));
 * } catch (e) {
 *   if (isWebhookVerificationError(e)) console.warn(e.code, e.status); // "signature_mismatch" 401, …
 *   else throw e;
 * }
 * ```
 */
export class WebhookVerificationError extends WebhookError {
  declare readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { status: verificationErrorStatus[code], cause: options?.cause });
    this.name = "WebhookVerificationError";
  }
}

/**
 * True for any hookguard error, including one from another copy of the library (another
 * realm, the other of the ESM and CJS builds), where `instanceof` alone would fail.
 *
 * @example
 * ```ts
 * import { isWebhookError, stripe, verifyWebhook } from "hookguard";
 *
 * try {
 *   const event = await verifyWebhook({ body: rawBody, headers }, stripe({ secret }));
 *   return { status: 200, body: event.id };
 * } catch (e) {
 *   if (isWebhookError(e)) return { status: e.status, body: e.code };
 *   throw e;
 * }
 * ```
 */
export function isWebhookError(value: unknown): value is WebhookError {
  if (value instanceof WebhookError) return true;
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string | symbol, unknown>;
  return (
    (v[Symbol.for(ERROR_BRAND)] === true ||
      v.name === "WebhookError" ||
      v.name === "WebhookVerificationError") &&
    typeof v.code === "string" &&
    typeof v.status === "number"
  );
}

/**
 * True for a {@link WebhookVerificationError}, across realms and bundles: the request did not
 * verify (as opposed to a receiver failure such as `store_unavailable`).
 *
 * @example
 * ```ts
 * import { isWebhookVerificationError, verifyWebhook } from "hookguard";
 *
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme).catch((e: unknown) => {
 *   if (isWebhookVerificationError(e)) return undefined; // the request's fault: answer e.status
 *   throw e; // anything else is a bug or an outage
 * });
 * ```
 */
export function isWebhookVerificationError(value: unknown): value is WebhookVerificationError {
  return isWebhookError(value) && value.code in verificationErrorStatus;
}
