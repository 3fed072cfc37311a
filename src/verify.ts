/**
 * `verifyWebhook`: proves a request comes from the provider, then parses its body.
 *
 * @module
 */
import { isThenable } from "./internal/thenable";
import { WebhookVerificationError } from "./errors";
import { headerReader } from "./headers";
import { failureMessage } from "./internal/messages";
import { fastVerifyOf } from "./internal/fast-verify";
import { assertTolerance } from "./internal/timestamp";
import type { SchemeRequest, VerifiedWebhook, VerifyFailure, VerifyOptions, VerifyOutcome, WebhookRequest, WebhookScheme } from "./types";

function bodyFailure(body: unknown): VerifyFailure {
  const detail =
    body === undefined || body === null
      ? "there is no body: a body parser may have consumed the stream"
      : `got ${Array.isArray(body) ? "an array" : typeof body === "object" ? "an already-parsed object" : `a ${typeof body}`}`;
  return { ok: false, code: "body_not_raw", detail };
}

/** Resolves `options.now` to epoch ms. */
export function nowMs(now: Date | number | undefined): number {
  if (now === undefined) return Date.now();
  const ms = typeof now === "number" ? now : now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError("hookguard: `now` must be a Date or epoch milliseconds");
  return ms;
}

/**
 * Verifies without throwing: the failure comes back as a value. This is the path the
 * receiver and the adapters use, so a flood of forged requests never pays for an `Error`.
 * @internal
 */
export function verifyRequest<TPayload>(
  request: WebhookRequest,
  scheme: WebhookScheme<TPayload>,
  options?: VerifyOptions,
): VerifyOutcome<TPayload> | Promise<VerifyOutcome<TPayload>> {
  const raw: unknown = request?.body;
  let body: string | Uint8Array;
  if (typeof raw === "string" || raw instanceof Uint8Array) body = raw;
  else if (raw instanceof ArrayBuffer) body = new Uint8Array(raw);
  else if (ArrayBuffer.isView(raw)) body = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  else return bodyFailure(raw);
  const headers = request.headers ?? {};
  const toleranceSeconds = options?.toleranceSeconds === undefined ? undefined : assertTolerance(options.toleranceSeconds, "options.toleranceSeconds");
  // The documented default, and the one signWebhook signs with: a URL-signed scheme must
  // see the same method on both sides when the caller leaves it out.
  const method = request.method ?? "POST";
  const fast = fastVerifyOf(scheme);
  if (fast !== undefined) {
    // A built-in HMAC scheme reads the headers as they are, and the clock only if it signs a timestamp.
    return fast(body, headers, request.url, method, options?.now === undefined ? undefined : nowMs(options.now), toleranceSeconds);
  }
  const schemeRequest: SchemeRequest = { body, header: headerReader(headers), url: request.url, method };
  return scheme.verify(schemeRequest, { nowMs: nowMs(options?.now), toleranceSeconds });
}

/** Turns a failure value into the error {@link verifyWebhook} rejects with. */
export function verificationError(failure: VerifyFailure, scheme: string): WebhookVerificationError {
  return new WebhookVerificationError(failure.code, failureMessage(failure, scheme));
}

/**
 * Verifies a webhook request and parses its body, only after the signature matched.
 *
 * @param request - the raw body (string, Buffer, Uint8Array or ArrayBuffer), the headers
 *   (`Headers`, Node's `IncomingHttpHeaders` or a plain record), and for URL-signed schemes
 *   the public `url`.
 * @param scheme - a scheme from a factory: `stripe()`, `github()`, `standardWebhooks()`, …
 * @param options - `now` (for tests) and `toleranceSeconds` (overrides the scheme's).
 * @returns the verified event: `{ id, type, timestamp, payload, rawBody, scheme, secretIndex }`.
 * @throws {@link WebhookVerificationError} for every bad request; its `code` says why and
 *   its `status` is the HTTP status to answer.
 *
 * @example
 * ```ts
 * import { stripe, verifyWebhook, isWebhookError } from "hookguard";
 * const scheme = stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! });
 * try {
 *   const event = await verifyWebhook({ body: rawBody, headers: req.headers }, scheme);
 *   console.log(event.type, event.id);
 * } catch (e) {
 *   if (isWebhookError(e)) return res.status(e.status).end();
 *   throw e;
 * }
 * ```
 */
export function verifyWebhook<TPayload = unknown>(
  request: WebhookRequest,
  scheme: WebhookScheme<TPayload>,
  options?: VerifyOptions,
): Promise<VerifiedWebhook<TPayload>> {
  let outcome: VerifyOutcome<TPayload> | PromiseLike<VerifyOutcome<TPayload>>;
  try {
    outcome = verifyRequest(request, scheme, options);
  } catch (error) {
    // A caller mistake (a bad `now` or tolerance) rejects, as it would from an async function.
    return Promise.reject(error);
  }
  // node:crypto answers synchronously: settling without an `await` saves the async
  // function's suspend and resume on every request (bench/: 3-9 % of a 1 KiB verify).
  if (isThenable(outcome)) {
    return Promise.resolve(outcome as PromiseLike<VerifyOutcome<TPayload>>).then((o) => settle(o, scheme.name));
  }
  const settled = outcome as VerifyOutcome<TPayload>;
  return settled.ok ? Promise.resolve(settled.webhook) : Promise.reject(verificationError(settled, scheme.name));
}

function settle<TPayload>(outcome: VerifyOutcome<TPayload>, scheme: string): VerifiedWebhook<TPayload> {
  if (outcome.ok) return outcome.webhook;
  throw verificationError(outcome, scheme);
}
