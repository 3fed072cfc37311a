/**
 * Vercel: `x-vercel-signature: <hex HMAC-SHA1 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link vercel}. Vercel signs no timestamp. */
export type VercelOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Vercel webhooks (account and team webhooks, and integration webhooks).
 *
 * - The secret is the webhook secret shown once when you created it, or the integration's
 *   Client Secret for integration webhooks.
 * - HMAC-SHA1, hex. `id` is the body's `id`, `type` its `type` (`deployment.created`).
 * - No timestamp is signed.
 *
 * From `hookguard`. The format comes from consistent secondary sources (docs/providers.md).
 *
 * @example
 * ```ts
 * import { vercel, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, vercel({ secret: process.env.VERCEL_WEBHOOK_SECRET! }));
 * ```
 */
export function vercel<TPayload = Record<string, unknown>>(options: VercelOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "vercel",
      secret: options?.secret,
      crypto: options?.crypto,
      algorithm: "sha1",
      signature: { header: "x-vercel-signature", encoding: "hex" },
      id: { body: "id" },
      type: { body: "type" },
    },
    "vercel()",
  );
}
