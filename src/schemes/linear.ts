/**
 * Linear: `Linear-Signature: <hex HMAC-SHA256 of the raw body>`; the replay window is
 * checked on `webhookTimestamp` (epoch ms) inside the signed body.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link linear}. */
export type LinearOptions = PresetOptions;

/**
 * Verifies Linear webhooks.
 *
 * - The timestamp is the body's `webhookTimestamp` (epoch milliseconds), covered by the
 *   signature; the `Linear-Timestamp` header is not signed and is ignored, as in Linear's
 *   SDK. The window is ±60 s, as in the SDK, checked right after the signature matched.
 * - `id` is the `Linear-Delivery` header, `type` the body's `type` (`Issue`, `Comment`, …;
 *   the body's `action` says `create`, `update` or `remove`).
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 60
 * @example
 * ```ts
 * import { linear, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, linear({ secret: process.env.LINEAR_WEBHOOK_SECRET! }));
 * ```
 */
export function linear<TPayload = Record<string, unknown>>(options: LinearOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "linear",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds ?? 60,
      crypto: options?.crypto,
      signature: { header: "linear-signature", encoding: "hex" },
      timestamp: { body: "webhookTimestamp", unit: "ms" },
      id: { header: "linear-delivery" },
      type: { body: "type" },
    },
    "linear()",
  );
}
