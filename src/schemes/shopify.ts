/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed with the
 * app's client secret.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link shopify}. Shopify signs no timestamp, so there is no tolerance. */
export type ShopifyOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Shopify webhooks, in both the classic `X-Shopify-*` headers and the newer
 * unprefixed `shopify-*` ones. `id` is the webhook id, `type` the topic (`orders/create`).
 *
 * Shopify signs no timestamp; the webhook id in the idempotency store is what stops a
 * replay from running twice. Webhooks sent by hand from the store's notification settings
 * are signed with a different key and do not verify (as in Shopify's own library).
 *
 * @example
 * ```ts
 * import { shopify, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body, headers }, shopify({ secret: process.env.SHOPIFY_API_SECRET! }));
 * ```
 */
export function shopify<TPayload = Record<string, unknown>>(options: ShopifyOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "shopify",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: ["x-shopify-hmac-sha256", "shopify-hmac-sha256"], encoding: "base64" },
      id: { header: ["x-shopify-webhook-id", "shopify-webhook-id"] },
      type: { header: ["x-shopify-topic", "shopify-topic"] },
    },
    "shopify()",
  );
}
