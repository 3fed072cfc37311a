/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + timestamp + ":" + rawBody>`,
 * `X-Slack-Request-Timestamp` in seconds.
 *
 * @module
 */
import { buildHmacScheme, type ExtractContext, type PresetOptions } from "./hmac";
import { jsonResponse } from "../response";
import type { VerifiedWebhook, WebhookScheme } from "../types";

function field(payload: unknown, key: string): unknown {
  return typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

// Interactivity (block actions, view submissions, shortcuts) arrives as a form with one
// field, `payload`, holding JSON: hand the handler that JSON, as Slack's own SDKs do.
function unwrapInteractivity(payload: unknown): unknown {
  const inner = field(payload, "payload");
  if (typeof inner !== "string") return payload;
  try {
    return JSON.parse(inner) as unknown;
  } catch {
    return payload;
  }
}

function slackType({ payload }: ExtractContext): string | undefined {
  // Events API: the envelope's `type` is `event_callback`; the event's own type is what handlers route on.
  const event = field(payload, "event");
  if (str(field(payload, "type")) === "event_callback") return str(field(event, "type"));
  if (str(field(payload, "command")) !== undefined) return "slash_command";
  return str(field(payload, "type"));
}

function slackId({ payload }: ExtractContext): string | undefined {
  return str(field(payload, "event_id")) ?? str(field(payload, "trigger_id"));
}

// Slack checks the endpoint by sending a signed url_verification event and expects its
// challenge back; answered only after the signature matched.
function urlVerification(event: VerifiedWebhook<unknown>) {
  const challenge = str(field(event.payload, "challenge"));
  return event.type === "url_verification" && challenge !== undefined ? jsonResponse(200, { challenge }) : undefined;
}

/**
 * Verifies Slack requests: Events API (JSON), slash commands and interactivity (form).
 *
 * - `type`: the inner event type for Events API callbacks (`app_mention`), `url_verification`,
 *   `slash_command` for slash commands, and the interaction type (`block_actions`,
 *   `view_submission`, …) for interactivity, whose `payload` field is parsed for you.
 * - `id`: `event_id` (stable across Slack's retries), else `trigger_id`.
 * - The window is two-sided (±300 s), like Slack's Python SDK; Bolt for JS checks only old.
 * - A receiver answers Slack's signed `url_verification` handshake with its `challenge`.
 *
 * @example
 * ```ts
 * import { slack, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body, headers }, slack({ secret: process.env.SLACK_SIGNING_SECRET! }));
 * ```
 */
export function slack<TPayload = Record<string, unknown>>(options: PresetOptions): WebhookScheme<TPayload> {
  return buildHmacScheme<TPayload>(
    {
      name: "slack",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds,
      crypto: options?.crypto,
      signature: { header: "x-slack-signature", encoding: "hex", prefix: "v0=" },
      timestamp: { header: "x-slack-request-timestamp", unit: "s" },
      signedContent: "v0:{timestamp}:{body}",
      transformPayload: unwrapInteractivity,
      id: slackId,
      type: slackType,
      handshake: urlVerification,
    },
    "slack()",
  );
}
