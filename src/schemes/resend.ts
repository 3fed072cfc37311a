/**
 * Resend: Standard Webhooks, sent under Svix's header names (`svix-id`, `svix-timestamp`,
 * `svix-signature`).
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
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
  return buildHmacScheme<TPayload>(
    {
      name: "resend",
      secret: options?.secret,
      secretFormat: "whsec-base64",
      toleranceSeconds: options?.toleranceSeconds,
      crypto: options?.crypto,
      signature: { header: ["svix-signature", "webhook-signature"], encoding: "base64", list: { separator: " ", prefix: "v1," } },
      timestamp: { header: ["svix-timestamp", "webhook-timestamp"], unit: "s" },
      id: { header: ["svix-id", "webhook-id"] },
      type: { body: "type" },
      signedContent: "{id}.{timestamp}.{body}",
    },
    "resend()",
  );
}
