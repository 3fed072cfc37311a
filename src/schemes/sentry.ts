/**
 * Sentry integration platform: `Sentry-Hook-Signature: <hex HMAC-SHA256 of the raw body>`.
 *
 * @module
 */
import { buildHmacScheme, type ExtractContext, type PresetOptions } from "./hmac";
import type { WebhookScheme } from "../types";

/** Options of {@link sentry}. Sentry signs no timestamp. */
export type SentryOptions = Omit<PresetOptions, "toleranceSeconds">;

function sentryType({ payload, header }: ExtractContext): string | undefined {
  const resource = header("sentry-hook-resource");
  const action = typeof payload === "object" && payload !== null ? (payload as { action?: unknown }).action : undefined;
  if (resource === undefined) return typeof action === "string" ? action : undefined;
  return typeof action === "string" && action !== "" ? `${resource}.${action}` : resource;
}

/**
 * Verifies Sentry integration-platform webhooks.
 *
 * - The secret is the integration's Client Secret.
 * - The raw body is verified. (Sentry's docs sample hashes `JSON.stringify(request.body)`,
 *   which only matches ASCII payloads: Sentry escapes non-ASCII as `\uXXXX`.)
 * - `Sentry-Hook-Timestamp` is not covered by the signature, so there is no replay window.
 * - `id` is the `Request-ID` header; `type` is `Sentry-Hook-Resource` and the body's
 *   `action`, e.g. `issue.created`, `installation.deleted`.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { sentry, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, sentry({ secret: process.env.SENTRY_CLIENT_SECRET! }));
 * ```
 */
export function sentry<TPayload = Record<string, unknown>>(options: SentryOptions): WebhookScheme<TPayload> {
  const scheme = buildHmacScheme<TPayload>(
    {
      name: "sentry",
      secret: options?.secret,
      crypto: options?.crypto,
      signature: { header: "sentry-hook-signature", encoding: "hex" },
      id: { header: "request-id" },
      type: sentryType,
    },
    "sentry()",
  );
  return {
    ...scheme,
    async sign(body, o) {
      const headers = await scheme.sign(body, o);
      // `type` is signed as `resource.action`; the resource travels in its header.
      if (o.type !== undefined) headers["sentry-hook-resource"] = o.type.split(".")[0]!;
      headers["sentry-hook-timestamp"] = String(Math.floor(o.timestampMs / 1000));
      return headers;
    },
  };
}
