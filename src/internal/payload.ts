// Parses a verified body by its content type. Called only after the signature matched, so
// an attacker cannot make us spend time parsing what we have not authenticated.
import { bodyText } from "./encoding";

/** A form body: repeated names become arrays, as Twilio and Slack send them. */
export type FormPayload = Record<string, string | string[]>;

const FORM_RE = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i;

export function isFormContentType(contentType: string | undefined): boolean {
  // JSON, the common case, is told from its first letters without the regex.
  return contentType !== undefined && !contentType.startsWith("application/json") && FORM_RE.test(contentType);
}

/** Parses `a=1&b=2&b=3` into `{ a: "1", b: ["2", "3"] }`. Never throws. */
export function parseForm(text: string): FormPayload {
  const out: FormPayload = Object.create(null) as FormPayload;
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

/** What {@link parseBody} returns for a body that is not valid JSON. */
export const INVALID_BODY: unique symbol = Symbol("hookguard.invalidBody");

/**
 * Parses the body: form-urlencoded when the content type says so, JSON otherwise (every
 * JSON provider, and requests that carry no content type). {@link INVALID_BODY} means
 * invalid JSON (a sentinel, not a wrapper object: this runs for every verified request).
 */
export function parseBody(body: string | Uint8Array, contentType: string | undefined): unknown {
  return isFormContentType(contentType) ? parseForm(bodyText(body)) : parseJson(body);
}

/** The body as JSON, whatever the content type says; {@link INVALID_BODY} if it is not JSON. */
export function parseJson(body: string | Uint8Array): unknown {
  try {
    return JSON.parse(bodyText(body)) as unknown;
  } catch {
    return INVALID_BODY;
  }
}

/** {@link parseBody} as `{ value }`, `undefined` for invalid JSON. */
export function parsePayload(body: string | Uint8Array, contentType: string | undefined): { value: unknown } | undefined {
  const value = parseBody(body, contentType);
  return value === INVALID_BODY ? undefined : { value };
}

/** Reads `a.b.c` from a parsed payload; `undefined` unless the value is a string or number. */
export function readPath(payload: unknown, path: readonly string[]): string | undefined {
  let v: unknown = payload;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}
