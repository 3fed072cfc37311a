/**
 * Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link intercom}. Intercom signs no timestamp. */
export type IntercomOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Intercom webhook notifications.
 *
 * - The secret is the app's `client_secret` (older apps: the subscription's `hub_secret`).
 * - HMAC-SHA1: still a sound MAC, though SHA-1 is broken for collisions.
 * - `id` is the body's `id` (`notif_…`), `type` its `topic` (`conversation.user.created`).
 * - No timestamp is signed: only the idempotency store stops a replay.
 *
 * From `hookguard`. Intercom's SDK has no verifier; the format follows Intercom's docs.
 *
 * @example
 * ```ts
 * import { intercom, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, intercom({ secret: process.env.INTERCOM_CLIENT_SECRET! }));
 * ```
 */
export function intercom<TPayload = Record<string, unknown>>(options: IntercomOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "intercom",
      secret: options?.secret,
      crypto: options?.crypto,
      algorithm: "sha1",
      signature: { header: "x-hub-signature", encoding: "hex", prefix: "sha1=" },
      id: { body: "id" },
      type: { body: "topic" },
    },
    "intercom()",
  );
}
