/**
 * WorkOS: `WorkOS-Signature: t=<epoch ms>, v1=<hex>`, HMAC-SHA256 of `${t}.${rawBody}`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link workos}. */
export type WorkOSOptions = PresetOptions;

/**
 * Verifies WorkOS webhooks.
 *
 * - The timestamp `t` is in **milliseconds**; the window is ±180 s (WorkOS's SDK: 3 minutes,
 *   old timestamps only).
 * - The raw body is verified. WorkOS's Node SDK takes the *parsed* payload and hashes
 *   `JSON.stringify(payload)`, which only matches when the sender's serialisation happens to
 *   equal V8's; the raw bytes are what WorkOS signed.
 * - `id` is the body's `id` (`event_…`), `type` its `event` (`user.created`).
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 180
 * @example
 * ```ts
 * import { workos, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, workos({ secret: process.env.WORKOS_WEBHOOK_SECRET! }));
 * ```
 */
export function workos<TPayload = Record<string, unknown>>(options: WorkOSOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "workos",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds ?? 180,
      crypto: options?.crypto,
      // WorkOS writes ", " between the entries; the parser trims either way.
      signature: { header: "workos-signature", encoding: "hex", pairs: { separator: ", ", key: "v1" } },
      timestamp: { signatureKey: "t", unit: "ms" },
      signedContent: "{timestamp}.{body}",
      id: { body: "id" },
      type: { body: "event" },
    },
    "workos()",
  );
}
