// Turns the user's `secret` option into key bytes, once, at construction time.
import { base64ToBytes, utf8Encode } from "./encoding";

/** How a provider's secret string becomes HMAC key bytes. */
export type SecretFormat =
  /** The string's UTF-8 bytes, as given (Stripe, GitHub, Slack, Shopify, …). */
  | "utf8"
  /** Standard base64 (padding optional). */
  | "base64"
  /** Standard Webhooks: strip an optional `whsec_` prefix, then base64-decode. */
  | "whsec-base64";

/** Validates `secret: string | string[]` and returns the list; throws a TypeError naming the option. */
export function secretList(secret: unknown, where: string, option = "secret"): string[] {
  const list = typeof secret === "string" ? [secret] : Array.isArray(secret) ? (secret as unknown[]) : undefined;
  if (!list || list.length === 0) {
    throw new TypeError(`hookguard: ${where} needs \`${option}\`: a non-empty string, or an array of them for rotation (the first signs)`);
  }
  list.forEach((s, i) => {
    if (typeof s !== "string" || s.length === 0) {
      const at = typeof secret === "string" ? option : `${option}[${i}]`;
      throw new TypeError(`hookguard: ${where}: \`${at}\` must be a non-empty string, got ${s === "" ? "an empty string" : typeof s}`);
    }
  });
  return list as string[];
}

/** Decodes one secret to key bytes; throws a TypeError naming the option (never echoing the secret). */
export function secretBytes(secret: string, format: SecretFormat, where: string, at: string): Uint8Array {
  if (format === "utf8") return utf8Encode(secret);
  let b64 = format === "whsec-base64" && secret.startsWith("whsec_") ? secret.slice(6) : secret;
  // Secrets copied from a dashboard sometimes lose their padding; the Python library pads them too.
  if (b64.length % 4 !== 0) b64 += "=".repeat(4 - (b64.length % 4));
  // Lenient about the unused bits: the official libraries accept any secret their decoder does.
  const bytes = b64.length > 0 ? base64ToBytes(b64, false) : undefined;
  if (!bytes || bytes.length === 0) {
    const what = format === "whsec-base64" ? "base64 after the optional whsec_ prefix" : "base64";
    throw new TypeError(`hookguard: ${where}: \`${at}\` is not valid ${what} (Standard Webhooks secrets look like whsec_ followed by base64)`);
  }
  return bytes;
}
