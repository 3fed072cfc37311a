/**
 * Standard Webhooks (Svix, Clerk, Resend and every sender of the spec):
 * `webhook-signature: v1,<base64>[ v1,<base64>…]`, HMAC-SHA256 of
 * `${webhook-id}.${webhook-timestamp}.${rawBody}`, key = base64 after `whsec_`.
 *
 * @module
 */
import { buildHmacScheme, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

// Svix-branded senders write svix-*; when a request carries both sets, the svix SDK reads
// svix-* and so do we, header by header, so both verify the same bytes: each svix-* name is
// read before its webhook-* twin (buildHmacScheme's `readFirst`), and webhook-* is signed.
const SVIX_FIRST: Readonly<Record<string, string>> = {
  "webhook-id": "svix-id",
  "webhook-timestamp": "svix-timestamp",
  "webhook-signature": "svix-signature",
};

/**
 * Verifies Standard Webhooks. Reads the `webhook-*` headers and the `svix-*` headers that
 * Svix-branded senders use (svix-* first, as the svix library does); signs `webhook-*`.
 *
 * - The secret is `whsec_` + base64 (the prefix is optional); anything else is a
 *   `TypeError` when the scheme is created, not a signature mismatch on every request.
 * - `id` is `webhook-id` (the message id, stable across retries); `type` the body's `type`.
 * - The window is two-sided, ±300 s by default, as the spec says.
 *
 * @example
 * ```ts
 * import { standardWebhooks, verifyWebhook } from "hookguard";
 * const scheme = standardWebhooks({ secret: process.env.WEBHOOK_SECRET! }); // "whsec_…"
 * const event = await verifyWebhook({ body, headers }, scheme);
 * ```
 */
export function standardWebhooks<TPayload = Record<string, unknown>>(options: PresetOptions): WebhookScheme<TPayload> {
  return standardWebhooksScheme<TPayload>("standard-webhooks", options, "standardWebhooks()", (n) => `webhook-${n}`, SVIX_FIRST);
}

/**
 * The Standard Webhooks description, under a sender's own name and header names (Clerk and
 * Resend send Svix's). `names(part)` gives the header name(s) for `id`, `timestamp` and
 * `signature`: several are read in order, the first is written.
 * @internal
 */
export function standardWebhooksScheme<TPayload>(
  name: string,
  options: PresetOptions,
  where: string,
  names: (part: "id" | "timestamp" | "signature") => string | readonly string[],
  readFirst?: Readonly<Record<string, string>>,
): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name,
      secret: options?.secret,
      secretFormat: "whsec-base64",
      toleranceSeconds: options?.toleranceSeconds,
      crypto: options?.crypto,
      signature: { header: names("signature"), encoding: "base64", list: { separator: " ", prefix: "v1," } },
      timestamp: { header: names("timestamp"), unit: "s" },
      id: { header: names("id") },
      type: { body: "type" },
      signedContent: "{id}.{timestamp}.{body}",
    },
    where,
    readFirst,
  );
}
