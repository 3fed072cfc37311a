/**
 * Calendly: `Calendly-Webhook-Signature: t=<seconds>,v1=<hex>`, HMAC-SHA256 of `${t}.${rawBody}`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link calendly}. */
export type CalendlyOptions = PresetOptions;

/**
 * Verifies Calendly webhooks.
 *
 * - The secret is the subscription's signing key (the `signing_key` you set when creating
 *   it with a personal access token, or the one Calendly generated for an OAuth app).
 * - The window is ±180 s, as in Calendly's sample code (from secondary sources: see
 *   docs/providers.md).
 * - `type` is the body's `event` (`invitee.created`); Calendly sends no event id, so `id`
 *   is `undefined`.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 180
 * @example
 * ```ts
 * import { calendly, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, calendly({ secret: process.env.CALENDLY_SIGNING_KEY! }));
 * ```
 */
export function calendly<TPayload = Record<string, unknown>>(options: CalendlyOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "calendly",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds ?? 180,
      crypto: options?.crypto,
      signature: { header: "calendly-webhook-signature", encoding: "hex", pairs: { separator: ",", key: "v1" } },
      timestamp: { signatureKey: "t", unit: "s" },
      signedContent: "{timestamp}.{body}",
      type: { body: "event" },
    },
    "calendly()",
  );
}
