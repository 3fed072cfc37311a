/**
 * `signWebhook`: the headers a provider would send, for tests and for senders.
 *
 * @module
 */
import { nowMs } from "./verify";
import type { SignOptions, WebhookScheme } from "./types";

/**
 * Signs a body the way the scheme's provider does and returns the headers to send with it,
 * signed with the scheme's first secret.
 *
 * @example
 * ```ts
 * import { signWebhook, verifyWebhook, stripe } from "hookguard";
 * const scheme = stripe({ secret: "whsec_test" });
 * const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });
 * const headers = await signWebhook(body, scheme);
 * await verifyWebhook({ body, headers }, scheme); // resolves
 * ```
 */
export async function signWebhook(body: string | Uint8Array | ArrayBuffer, scheme: WebhookScheme<unknown>, options?: SignOptions): Promise<Record<string, string>> {
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  if (typeof bytes !== "string" && !(bytes instanceof Uint8Array)) throw new TypeError("hookguard: signWebhook() needs the body as a string, Uint8Array or ArrayBuffer");
  const timestamp = options?.timestamp;
  // Checked here so the message names this option, not verifyWebhook's `now`.
  if (timestamp !== undefined && !Number.isFinite(timestamp instanceof Date ? timestamp.getTime() : typeof timestamp === "number" ? timestamp : Number.NaN)) {
    throw new TypeError("hookguard: signWebhook(): `options.timestamp` must be a Date or epoch milliseconds");
  }
  return scheme.sign(bytes, {
    id: options?.id,
    type: options?.type,
    timestampMs: nowMs(timestamp),
    contentType: options?.contentType ?? "application/json",
    url: options?.url,
    method: options?.method ?? "POST",
  });
}
