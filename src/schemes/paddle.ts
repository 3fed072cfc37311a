/**
 * Paddle Billing: `Paddle-Signature: ts=<seconds>;h1=<hex>[;h1=<hex>…]`, HMAC-SHA256 of
 * `${ts}:${rawBody}` keyed with the endpoint's secret key string as it is.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link paddle}. */
export type PaddleOptions = PresetOptions;

/**
 * Verifies Paddle Billing webhooks (not Paddle Classic, which signs a `p_signature` form
 * field with RSA).
 *
 * - The secret is the notification destination's secret key (`pdl_ntfset_…`), used as is.
 * - Any matching `h1=` passes: Paddle sends one per active secret while you rotate. (The
 *   Node SDK keeps only the last `h1`, so it rejects a valid request whose matching
 *   signature comes first; Paddle's Python and PHP SDKs try them all, as we do.)
 * - The window is **5 seconds** by default, as in Paddle's SDKs, and two-sided (the Node SDK
 *   rejects only old timestamps). Raise `toleranceSeconds` if your clock drifts.
 * - `id` is the body's `event_id`, `type` its `event_type` (`transaction.completed`).
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 5
 * @example
 * ```ts
 * import { paddle, verifyWebhook } from "hookguard";
 * const scheme = paddle({ secret: process.env.PADDLE_WEBHOOK_SECRET! });
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function paddle<TPayload = Record<string, unknown>>(options: PaddleOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "paddle",
      secret: options?.secret,
      // Paddle's own SDKs allow 5 s: its sender signs the moment it sends.
      toleranceSeconds: options?.toleranceSeconds ?? 5,
      crypto: options?.crypto,
      signature: { header: "paddle-signature", encoding: "hex", pairs: { separator: ";", key: "h1" } },
      timestamp: { signatureKey: "ts", unit: "s" },
      signedContent: "{timestamp}:{body}",
      id: { body: "event_id" },
      type: { body: "event_type" },
    },
    "paddle()",
  );
}
