/**
 * Resend: Standard Webhooks, sent under Svix's header names (`svix-id`, `svix-timestamp`,
 * `svix-signature`).
 *
 * @module
 */
import type { PresetOptions } from "./hmac";
import { standardWebhooksScheme } from "./standard-webhooks";
import type { WebhookScheme } from "../types";

/** Options of {@link resend}. */
export type ResendOptions = PresetOptions;

/**
 * Verifies Resend webhooks. Reads the `svix-*` headers Resend sends, or the unbranded
 * `webhook-*` ones (header by header, `svix-*` first, as the svix library does); signs
 * `svix-*`.
 *
 * - The secret is the webhook's signing secret, `whsec_` + base64.
 * - `id` is `svix-id` (stable across retries), `type` the body's `type` (`email.delivered`).
 * - The window is ±300 s, as in Standard Webhooks.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { resend, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, resend({ secret: process.env.RESEND_WEBHOOK_SECRET! }));
 * ```
 */
export function resend<TPayload = Record<string, unknown>>(options: ResendOptions): WebhookScheme<TPayload> {
  return standardWebhooksScheme<TPayload>("resend", options, "resend()", (n) => [`svix-${n}`, `webhook-${n}`]);
}
