/**
 * Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256 of notificationUrl + rawBody>`.
 *
 * @module
 */
import { buildHmacScheme } from "./hmac";
import type { CryptoPreference } from "../internal/crypto";
import { checkUrlOptions, missingUrl, resolvePublicUrl, urlForDetail, type PublicUrlOptions } from "../internal/public-url";
import type { SchemeRequest, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link square}. Square signs no timestamp. */
export interface SquareOptions extends PublicUrlOptions {
  /** The subscription's signature key; several while you rotate. */
  readonly secret: string | readonly string[];
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

/**
 * Verifies Square webhooks.
 *
 * - The signature covers the subscription's **notification URL** exactly as configured in
 *   the Square Developer Console, then the raw body. Set `url` to that URL (recommended: it
 *   is fixed per subscription and immune to proxies), or `baseUrl`, or pass a public
 *   `request.url`.
 * - `id` is the body's `event_id`, `type` its `type` (`payment.updated`). No timestamp is
 *   signed: only the idempotency store stops a replay.
 * - Compared in constant time (Square's Node SDK compares with `===`).
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { square, verifyWebhook } from "hookguard";
 * const scheme = square({ secret: process.env.SQUARE_SIGNATURE_KEY!, url: "https://api.example.com/webhooks/square" });
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function square<TPayload = Record<string, unknown>>(options: SquareOptions): WebhookScheme<TPayload> {
  const where = "square()";
  const inner = buildHmacScheme<TPayload>(
    {
      name: "square",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "x-square-hmacsha256-signature", encoding: "base64" },
      signedContent: "{url}{body}",
      id: { body: "event_id" },
      type: { body: "type" },
    },
    where,
  );
  checkUrlOptions(options, where);

  function explain(outcome: VerifyOutcome<TPayload>, url: string): VerifyOutcome<TPayload> {
    if (outcome.ok || outcome.code !== "signature_mismatch") return outcome;
    return { ...outcome, detail: `the signature covers the notification URL; verified against ${urlForDetail(url)} — set url to the subscription's notification URL` };
  }

  return {
    name: "square",
    toleranceSeconds: undefined,
    verify(req, ctx) {
      const url = resolvePublicUrl(req.url, options);
      if (url === undefined) {
        // A request without the signature header is reported as such first.
        if (req.header("x-square-hmacsha256-signature") === undefined) return { ok: false, code: "missing_header", header: "x-square-hmacsha256-signature" };
        return missingUrl(req.url);
      }
      const withUrl: SchemeRequest = { body: req.body, header: (n) => req.header(n), url, method: req.method };
      const outcome = inner.verify(withUrl, ctx);
      return outcome instanceof Promise ? outcome.then((o) => explain(o, url)) : explain(outcome, url);
    },
    sign(body, o) {
      const url = o.url ?? options.url;
      if (url === undefined) throw new TypeError(`hookguard: ${where}: signing needs the notification URL: pass signWebhook(body, scheme, { url }) or the url option`);
      return inner.sign(body, { ...o, url });
    },
  };
}
