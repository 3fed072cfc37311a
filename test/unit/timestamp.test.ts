// Timestamp parsing and the two-sided replay window.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertTolerance, checkWindow, formatTimestamp, parseTimestamp } from "../../src/internal/timestamp";

describe("parseTimestamp", () => {
  it("reads whole seconds and milliseconds", () => {
    expect(parseTimestamp("1700000000", "s")).toBe(1_700_000_000_000);
    expect(parseTimestamp("1700000000123", "ms")).toBe(1_700_000_000_123);
    expect(parseTimestamp("0", "s")).toBe(0);
  });

  it.each(["", " 1700000000", "1700000000 ", "+1700000000", "-1", "1.7e9", "1700000000.0", "0x10", "17000000000000000", "१२३"])(
    "rejects %j in seconds and milliseconds: one signed value has one spelling",
    (raw) => {
      expect(parseTimestamp(raw, "s")).toBeUndefined();
      expect(parseTimestamp(raw, "ms")).toBeUndefined();
    },
  );

  it("rejects times a Date cannot hold, so a verified event never carries an Invalid Date", () => {
    expect(parseTimestamp("8640000000000", "s")).toBe(8.64e15);
    expect(parseTimestamp("8640000000001", "s")).toBeUndefined();
    expect(parseTimestamp("9999999999999999", "s")).toBeUndefined();
    expect(parseTimestamp("8640000000000000", "ms")).toBe(8.64e15);
    expect(parseTimestamp("8640000000000001", "ms")).toBeUndefined();
  });

  it("reads every string of 1 to 16 digits as Number() does, and nothing else", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,16}$/), fc.constantFrom("s" as const, "ms" as const), (raw, unit) => {
        const ms = unit === "s" ? Number(raw) * 1000 : Number(raw);
        expect(parseTimestamp(raw, unit)).toBe(ms <= 8.64e15 ? ms : undefined);
      }),
    );
    // A digit string with one character replaced by anything that is not a digit: the
    // neighbours of "0" and "9" (`/`, `:`) included, and characters beyond ASCII.
    const notDigit = fc.oneof(fc.constantFrom("/", ":", " ", "+", "-", ".", "e", "\u0660", "\uff10"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })).filter((c) => !/^[0-9]$/.test(c));
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,16}$/), fc.nat(), notDigit, (digits, at, c) => {
        const i = at % digits.length;
        const raw = digits.slice(0, i) + c + digits.slice(i + 1);
        expect(parseTimestamp(raw, "s")).toBeUndefined();
        expect(parseTimestamp(raw, "ms")).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (raw) => {
        if (/^[0-9]{1,16}$/.test(raw)) return;
        expect(parseTimestamp(raw, "s")).toBeUndefined();
      }),
    );
  });

  it("reads RFC 3339 with any fraction and a zone", () => {
    expect(parseTimestamp("2023-11-14T22:13:20Z", "rfc3339")).toBe(1_700_000_000_000);
    expect(parseTimestamp("2023-11-14T22:13:20.123456789Z", "rfc3339")).toBe(1_700_000_000_123);
    expect(parseTimestamp("2023-11-14t22:13:20z", "rfc3339")).toBe(1_700_000_000_000);
    expect(parseTimestamp("2023-11-15T00:13:20+02:00", "rfc3339")).toBe(1_700_000_000_000);
  });

  it.each(["2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z", "1700000000", "2023-13-45T99:99:99Z", "Tue, 14 Nov 2023 22:13:20 GMT"])("rejects %j as RFC 3339", (raw) => {
    expect(parseTimestamp(raw, "rfc3339")).toBeUndefined();
  });
});

describe("formatTimestamp", () => {
  it("writes each unit the way providers do", () => {
    expect(formatTimestamp(1_700_000_000_999, "s")).toBe("1700000000");
    expect(formatTimestamp(1_700_000_000_999, "ms")).toBe("1700000000999");
    expect(formatTimestamp(1_700_000_000_999, "rfc3339")).toBe("2023-11-14T22:13:20.999Z");
  });
});

describe("checkWindow", () => {
  const t = 1_700_000_000_000;

  it("accepts exactly ±tolerance and rejects one millisecond beyond, each side with its own code", () => {
    expect(checkWindow(t, t + 300_000, 300, "h")).toBeUndefined();
    expect(checkWindow(t, t - 300_000, 300, "h")).toBeUndefined();
    expect(checkWindow(t, t + 300_001, 300, "h")).toMatchObject({ ok: false, code: "timestamp_too_old", header: "h" });
    expect(checkWindow(t, t - 300_001, 300, "h")).toMatchObject({ ok: false, code: "timestamp_too_new", header: "h" });
  });

  it("says how far off the timestamp is, and never more", () => {
    expect(checkWindow(t, t + 400_000, 300, undefined)?.detail).toBe("the signed timestamp is 400 s old; the tolerance is 300 s");
    expect(checkWindow(t, t - 400_000, 300, undefined)?.detail).toBe("the signed timestamp is 400 s in the future; the tolerance is 300 s");
  });

  it("is disabled by Infinity and exact with 0", () => {
    expect(checkWindow(0, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY, undefined)).toBeUndefined();
    expect(checkWindow(t, t, 0, undefined)).toBeUndefined();
    expect(checkWindow(t, t + 1, 0, undefined)?.code).toBe("timestamp_too_old");
  });
});

describe("assertTolerance", () => {
  it("returns valid values and names the option for invalid ones", () => {
    expect(assertTolerance(0, "x")).toBe(0);
    expect(assertTolerance(Number.POSITIVE_INFINITY, "x")).toBe(Number.POSITIVE_INFINITY);
    expect(() => assertTolerance(-0.5, "opts.toleranceSeconds")).toThrow(new TypeError("hookguard: opts.toleranceSeconds must be a number of seconds >= 0 (Infinity disables the check), got -0.5"));
    expect(() => assertTolerance(undefined, "opts.toleranceSeconds")).toThrow(/got undefined/);
  });
});
