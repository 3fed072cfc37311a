/**
 * Lemon Squeezy: `X-Signature: <hex HMAC-SHA256 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type ExtractContext, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link lemonSqueezy}. Lemon Squeezy signs no timestamp. */
export type LemonSqueezyOptions = Omit<PresetOptions, "toleranceSeconds">;

function eventName({ payload, header }: ExtractContext): string | undefined {
  const meta = typeof payload === "object" && payload !== null ? (payload as { meta?: unknown }).meta : undefined;
  const name = typeof meta === "object" && meta !== null ? (meta as { event_name?: unknown }).event_name : undefined;
  return typeof name === "string" ? name : header("x-event-name");
}

/**
 * Verifies Lemon Squeezy webhooks.
 *
 * - The secret is the signing secret you chose for the webhook (6–40 characters).
 * - `type` is the body's `meta.event_name` (signed), else the `X-Event-Name` header
 *   (`order_created`). Lemon Squeezy sends no event id, so `id` is `undefined`.
 * - No timestamp is signed.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { lemonSqueezy, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, lemonSqueezy({ secret: process.env.LEMON_SQUEEZY_SECRET! }));
 * ```
 */
export function lemonSqueezy<TPayload = Record<string, unknown>>(options: LemonSqueezyOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "lemon-squeezy",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "x-signature", encoding: "hex" },
      type: eventName,
    },
    "lemonSqueezy()",
  );
}
