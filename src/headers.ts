/**
 * Case-insensitive header access over every header shape servers hand out.
 *
 * @module
 */
import type { WebhookHeaders } from "./types";

function isHeadersLike(h: WebhookHeaders): h is { get(name: string): string | null } {
  return typeof (h as { get?: unknown }).get === "function";
}

/**
 * Reads a header by name, case-insensitively, from a `Headers`, Node's
 * `IncomingHttpHeaders` or a plain record. Several values are joined with `", "`, as
 * `Headers#get` does, so every shape gives the same answer.
 *
 * @param name - the header name in lower case
 *
 * @example
 * ```ts
 * import { readHeader } from "hookguard";
 *
 * readHeader(new Headers({ "Stripe-Signature": "t=1,v1=…" }), "stripe-signature"); // "t=1,v1=…"
 * readHeader({ "X-GitHub-Event": "push" }, "x-github-event"); // "push"
 * readHeader(req.headers, "x-missing"); // undefined
 * ```
 */
export function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  return read(headers, name, true);
}

/** True when every own key of the record is in lower case (as Node's are). */
function allLowerCase(headers: Readonly<Record<string, unknown>>): boolean {
  for (const key in headers) if (key !== key.toLowerCase()) return false;
  return true;
}

function read(headers: WebhookHeaders, name: string, mayHaveMixedCase: boolean): string | undefined {
  if (isHeadersLike(headers)) return headers.get(name) ?? undefined;
  return readRecord(headers, name, mayHaveMixedCase);
}

function readRecord(headers: Exclude<WebhookHeaders, { get(name: string): string | null }>, name: string, mayHaveMixedCase: boolean): string | undefined {
  let value = headers[name];
  // Own properties only: `constructor` or `__proto__` must not read Object.prototype. A
  // string is taken as it is (an inherited string would need a polluted Object.prototype):
  // the own-property check costs as much as the read, and every request reads 3 to 7 headers.
  if (value !== undefined && typeof value !== "string" && !Object.hasOwn(headers, name)) value = undefined;
  if (value === undefined && mayHaveMixedCase) {
    // Node lower-cases names already; a hand-written record may not.
    // Cheap tests first, the length and the first character (an ASCII letter in either
    // case; anything beyond ASCII is left to toLowerCase): lower-casing every header of the
    // same length showed in profiles of schemes with alternative names (svix-*).
    const initial = name.charCodeAt(0);
    for (const key in headers) {
      if (key.length !== name.length) continue;
      const c = key.charCodeAt(0);
      if ((c === initial || (c | 0x20) === initial || c > 0x7f) && key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

/**
 * A reader for one request's headers. A record whose keys are all lower case (Node's
 * `IncomingHttpHeaders`) is found out on the first miss, once: later misses — schemes that
 * look for alternative names, such as `svix-*` beside `webhook-*` — then cost one lookup,
 * not a scan of every header each.
 * @internal
 */
export function headerReader(headers: WebhookHeaders): (name: string) => string | undefined {
  if (isHeadersLike(headers)) return (name) => headers.get(name) ?? undefined;
  let mixedCase: boolean | undefined;
  return (name) => {
    const exact = readRecord(headers, name, false);
    if (exact !== undefined) return exact;
    mixedCase ??= !allLowerCase(headers);
    return mixedCase ? readRecord(headers, name, true) : undefined;
  };
}
