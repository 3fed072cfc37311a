// Timestamp parsing and the replay window, shared by every scheme that signs a timestamp.
import type { VerifyFailure } from "../types";

/** How a provider writes its timestamp. */
export type TimestampUnit = "s" | "ms" | "rfc3339";

// Digits only, 1 to 16 of them: "1.5e9", "+1", " 1" and "0x10" are not timestamps any
// provider sends, and accepting them would let one signed value be spelled several ways.
// A loop, not /^\d{1,16}$/ then Number(): this runs for every request, and both the regex
// and Number() of a string (which leaves JavaScript for the runtime) cost more — the check
// and Number() took ~720 instructions per request, this loop ~180. The value is exact below
// 2^53; beyond it every value is past MAX_DATE_MS either way.
/** The value of 1 to 16 ASCII digits; `undefined` for anything else. */
function digitsValue(raw: string): number | undefined {
  const length = raw.length;
  if (length === 0 || length > 16) return undefined;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const d = raw.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

/** True for 1 to 16 ASCII digits. */
export function isDigits(raw: string): boolean {
  return digitsValue(raw) !== undefined;
}

// RFC 3339 with any fraction (Twitch sends nanoseconds) and Z or an offset.
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

// The largest time a Date can hold (ECMAScript's time value range).
const MAX_DATE_MS = 8.64e15;

/** Parses a timestamp to epoch ms; `undefined` if it is not in the given unit's format. */
export function parseTimestamp(raw: string, unit: TimestampUnit): number | undefined {
  if (unit === "rfc3339") {
    if (!RFC3339_RE.test(raw)) return undefined;
    const ms = Date.parse(raw);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const n = digitsValue(raw);
  if (n === undefined) return undefined;
  const ms = unit === "s" ? n * 1000 : n;
  // Beyond this a Date is invalid: the verified event would carry `timestamp: Invalid Date`.
  return ms <= MAX_DATE_MS ? ms : undefined;
}

/** Formats epoch ms the way a provider would write it. */
export function formatTimestamp(ms: number, unit: TimestampUnit): string {
  if (unit === "rfc3339") return new Date(ms).toISOString();
  return String(unit === "s" ? Math.floor(ms / 1000) : Math.floor(ms));
}

/**
 * Checks a timestamp against a two-sided window. Too old is a replay (or a slow clock
 * here); too new is a sender clock ahead of ours beyond reason, or a request minted for
 * later replay — both are rejected, each with its own code.
 */
export function checkWindow(timestampMs: number, nowMs: number, toleranceSeconds: number, header: string | undefined): VerifyFailure | undefined {
  if (toleranceSeconds === Number.POSITIVE_INFINITY) return undefined;
  const toleranceMs = toleranceSeconds * 1000;
  const age = nowMs - timestampMs;
  if (age > toleranceMs) {
    return { ok: false, code: "timestamp_too_old", header, detail: `the signed timestamp is ${Math.round(age / 1000)} s old; the tolerance is ${toleranceSeconds} s` };
  }
  if (-age > toleranceMs) {
    return { ok: false, code: "timestamp_too_new", header, detail: `the signed timestamp is ${Math.round(-age / 1000)} s in the future; the tolerance is ${toleranceSeconds} s` };
  }
  return undefined;
}

/** Validates a tolerance option at construction; returns it. */
export function assertTolerance(value: unknown, option: string): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new TypeError(`hookguard: ${option} must be a number of seconds >= 0 (Infinity disables the check), got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : typeof value;
}
