/**
 * Twitch EventSub (webhook transport): `Twitch-Eventsub-Message-Signature: sha256=<hex>`,
 * HMAC-SHA256 of message id + timestamp + raw body, with no separators.
 *
 * @module
 */
import { buildHmacScheme, type ExtractContext, type PresetOptions } from "./hmac";
import type { WebhookResponse } from "../response";
import type { VerifiedWebhook, WebhookScheme } from "../types";

/** Options of {@link twitch}. */
export type TwitchOptions = PresetOptions;

const MESSAGE_TYPE = "twitch-eventsub-message-type";
const SUBSCRIPTION_TYPE = "twitch-eventsub-subscription-type";
const VERIFICATION = "webhook_callback_verification";

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

// A notification routes on its subscription type (`channel.follow`); the two control
// messages on their message type, which no subscription type can be confused with.
function twitchType({ payload, header }: ExtractContext): string | undefined {
  const messageType = header(MESSAGE_TYPE);
  if (messageType === undefined || messageType === "notification") {
    return header(SUBSCRIPTION_TYPE) ?? str(field(field(payload, "subscription"), "type"));
  }
  return messageType;
}

// Twitch confirms a subscription with a signed challenge and expects it back as plain text.
function challenge(event: VerifiedWebhook<unknown>): WebhookResponse | undefined {
  const value = str(field(event.payload, "challenge"));
  if (event.type !== VERIFICATION || value === undefined) return undefined;
  return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: value };
}

/**
 * Verifies Twitch EventSub webhooks, and answers the signed `webhook_callback_verification`
 * challenge (200, `text/plain`, the challenge) when used with a receiver or an adapter.
 *
 * - The secret is the one you passed when creating the subscription (10–100 ASCII chars).
 * - The timestamp is RFC 3339 with nanoseconds, signed exactly as sent; the window is
 *   ±10 minutes, as Twitch's docs advise.
 * - `id` is `Twitch-Eventsub-Message-Id` (Twitch asks you to de-duplicate on it); `type` is
 *   the subscription type (`channel.follow`) for notifications, else the message type
 *   (`webhook_callback_verification`, `revocation`).
 * - Signing: `options.type` is the subscription type, or one of the two message types.
 *
 * From `hookguard`. There is no official Twitch server SDK; the format follows Twitch's docs.
 *
 * @default toleranceSeconds 600
 * @example
 * ```ts
 * import { twitch, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, twitch({ secret: process.env.TWITCH_EVENTSUB_SECRET! }));
 * ```
 */
export function twitch<TPayload = Record<string, unknown>>(options: TwitchOptions): WebhookScheme<TPayload> {
  const scheme = buildHmacScheme<TPayload>(
    {
      name: "twitch",
      secret: options?.secret,
      // Twitch's docs: reject messages older than 10 minutes.
      toleranceSeconds: options?.toleranceSeconds ?? 600,
      crypto: options?.crypto,
      signature: { header: "twitch-eventsub-message-signature", encoding: "hex", prefix: "sha256=" },
      timestamp: { header: "twitch-eventsub-message-timestamp", unit: "rfc3339" },
      id: { header: "twitch-eventsub-message-id" },
      signedContent: "{id}{timestamp}{body}",
      type: twitchType,
      handshake: challenge,
    },
    "twitch()",
  );
  return {
    ...scheme,
    async sign(body, o) {
      const headers = await scheme.sign(body, o);
      if (o.type === VERIFICATION || o.type === "revocation") {
        headers[MESSAGE_TYPE] = o.type;
      } else {
        headers[MESSAGE_TYPE] = "notification";
        if (o.type !== undefined) headers[SUBSCRIPTION_TYPE] = o.type;
      }
      return headers;
    },
  };
}
