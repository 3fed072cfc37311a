/**
 * Bitbucket (Cloud and Data Center): `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link bitbucket}. Bitbucket signs no timestamp. */
export type BitbucketOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies Bitbucket webhooks. Unlike GitHub's header of the same name, Bitbucket's
 * `X-Hub-Signature` is SHA-256. `id` is `X-Request-UUID` (Cloud) or `X-Request-Id` (Data
 * Center), `type` the `X-Event-Key` (`repo:push`). A webhook without a secret is not signed
 * at all: configure one. No timestamp is signed.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { bitbucket, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, bitbucket({ secret: process.env.BITBUCKET_WEBHOOK_SECRET! }));
 * ```
 */
export function bitbucket<TPayload = Record<string, unknown>>(options: BitbucketOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "bitbucket",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "x-hub-signature", encoding: "hex", prefix: "sha256=" },
      id: { header: ["x-request-uuid", "x-request-id"] },
      type: { header: "x-event-key" },
    },
    "bitbucket()",
  );
}
