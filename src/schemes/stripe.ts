/**
 * Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of
 * `${t}.${rawBody}` keyed with the whole `whsec_…` string.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** The fields hookguard reads from a Stripe event; use `stripe<Stripe.Event>()` for the full type. */
export interface StripeEventLike {
  /** The event id, `evt_…`: the idempotency key (the same on every retry). */
  id: string;
  /** The event type, e.g. `invoice.paid`. */
  type: string;
  [key: string]: unknown;
}

/**
 * Verifies Stripe webhooks.
 *
 * - The secret is the endpoint's signing secret (`whsec_…`), used whole as the key — not
 *   base64-decoded, unlike Standard Webhooks.
 * - Several `v1=` signatures are accepted (Stripe sends one per active secret while you roll).
 * - The timestamp window is two-sided (±`toleranceSeconds`); Stripe's SDK rejects only old ones.
 * - `id` and `type` come from the event body (`evt_…`, `invoice.paid`).
 *
 * @example
 * ```ts
 * import { stripe, verifyWebhook } from "hookguard";
 * const scheme = stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! });
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function stripe<TPayload = StripeEventLike>(options: PresetOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "stripe",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds,
      crypto: options?.crypto,
      signature: { header: "stripe-signature", encoding: "hex", pairs: { separator: ",", key: "v1" } },
      timestamp: { signatureKey: "t", unit: "s" },
      signedContent: "{timestamp}.{body}",
      id: { body: "id" },
      type: { body: "type" },
    },
    "stripe()",
    undefined,
    // Stripe sends JSON only; its SDK's constructEvent parses the body as JSON whatever the Content-Type.
    true,
  );
}
