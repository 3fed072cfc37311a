/**
 * Clerk: Standard Webhooks under Svix's header names — `svix-id`, `svix-timestamp`,
 * `svix-signature: v1,<base64 HMAC-SHA256 of "${id}.${timestamp}.${rawBody}">`.
 *
 * @module
 */
import type { PresetOptions } from "./hmac";
import { standardWebhooksScheme } from "./standard-webhooks";
import type { WebhookScheme } from "../types";

/** Options of {@link clerk}. */
export type ClerkOptions = PresetOptions;

/**
 * Verifies Clerk webhooks. Like `@clerk/backend`'s `verifyWebhook`, it requires the
 * `svix-*` headers (the unbranded `webhook-*` names are not read) and signs them.
 *
 * - The secret is the endpoint's signing secret, `whsec_` + base64 (Clerk's
 *   `CLERK_WEBHOOK_SIGNING_SECRET`); anything else throws when the scheme is created.
 * - `id` is `svix-id` (stable across retries), `type` the body's `type` (`user.created`).
 * - The window is ±300 s, as in Standard Webhooks.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { clerk, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, clerk({ secret: process.env.CLERK_WEBHOOK_SIGNING_SECRET! }));
 * ```
 */
export function clerk<TPayload = Record<string, unknown>>(options: ClerkOptions): WebhookScheme<TPayload> {
  return standardWebhooksScheme<TPayload>("clerk", options, "clerk()", (n) => `svix-${n}`);
}
