/**
 * Coinbase Commerce: `X-CC-Webhook-Signature: <hex HMAC-SHA256 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link coinbaseCommerce}. Coinbase Commerce signs no timestamp. */
export type CoinbaseCommerceOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Coinbase Commerce webhooks. `id` is the body's `event.id`, `type` its
 * `event.type` (`charge:confirmed`). No timestamp is signed: only the idempotency store
 * stops a replay.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { coinbaseCommerce, verifyWebhook } from "hookguard";
 * const scheme = coinbaseCommerce({ secret: process.env.COINBASE_COMMERCE_WEBHOOK_SECRET! });
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function coinbaseCommerce<TPayload = Record<string, unknown>>(options: CoinbaseCommerceOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "coinbase-commerce",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "x-cc-webhook-signature", encoding: "hex" },
      id: { body: "event.id" },
      type: { body: "event.type" },
    },
    "coinbaseCommerce()",
  );
}
