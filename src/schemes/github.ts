/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link github}. GitHub signs no timestamp, so there is no tolerance. */
export type GitHubOptions = Omit<PresetOptions, "toleranceSeconds">;

/**
 * Verifies GitHub webhooks. `id` is the `X-GitHub-Delivery` GUID (stable across
 * redeliveries), `type` the `X-GitHub-Event` name (`push`, `pull_request`, …).
 *
 * GitHub signs no timestamp: a captured delivery stays valid forever, and only the
 * idempotency store (keyed by the delivery id) stops a replay from running twice.
 *
 * @example
 * ```ts
 * import { github, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body, headers }, github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }));
 * ```
 */
export function github<TPayload = Record<string, unknown>>(options: GitHubOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "github",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "x-hub-signature-256", encoding: "hex", prefix: "sha256=" },
      id: { header: "x-github-delivery" },
      type: { header: "x-github-event" },
    },
    "github()",
  );
}
