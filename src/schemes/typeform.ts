/**
 * Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>` — base64,
 * despite the GitHub-like prefix.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link typeform}. Typeform signs no timestamp. */
export type TypeformOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Typeform webhooks. `id` is the body's `event_id`, `type` its `event_type`
 * (`form_response`). Typeform signs no timestamp: only the idempotency store stops a
 * replayed delivery from running twice.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { typeform, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, typeform({ secret: process.env.TYPEFORM_SECRET! }));
 * ```
 */
export function typeform<TPayload = Record<string, unknown>>(options: TypeformOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "typeform",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "typeform-signature", encoding: "base64", prefix: "sha256=" },
      id: { body: "event_id" },
      type: { body: "event_type" },
    },
    "typeform()",
  );
}
