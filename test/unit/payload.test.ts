// Parsing a verified body by its content type.
import { describe, expect, it } from "vitest";
import { isFormContentType, parseForm, parsePayload, readPath } from "../../src/internal/payload";

describe("parsePayload", () => {
  it("parses JSON by default, from a string or bytes", () => {
    expect(parsePayload('{"a":[1,"ü"]}', undefined)).toEqual({ value: { a: [1, "ü"] } });
    expect(parsePayload(Buffer.from('{"a":1}'), "application/json; charset=utf-8")).toEqual({ value: { a: 1 } });
    expect(parsePayload("null", "text/plain")).toEqual({ value: null });
  });

  it("answers undefined for invalid JSON, empty bodies included", () => {
    expect(parsePayload("{", undefined)).toBeUndefined();
    expect(parsePayload("", "application/json")).toBeUndefined();
    expect(parsePayload("a=1", "application/json")).toBeUndefined();
  });

  it("parses form bodies when the content type says so, whatever its case and parameters", () => {
    for (const ct of ["application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded; charset=utf-8", "  application/x-www-form-urlencoded;charset=UTF-8"]) {
      expect(isFormContentType(ct)).toBe(true);
      expect(parsePayload("a=1&b=%2Fx+y", ct)).toEqual({ value: { a: "1", b: "/x y" } });
    }
    expect(isFormContentType("application/x-www-form-urlencoded-not")).toBe(false);
    expect(isFormContentType(undefined)).toBe(false);
  });
});

describe("parseForm", () => {
  it("turns repeated names into arrays, as Twilio and Slack send them", () => {
    expect(parseForm("a=1&b=2&b=3&b=4&c=")).toEqual({ a: "1", b: ["2", "3", "4"], c: "" });
  });

  it("cannot be steered into the prototype", () => {
    const form = parseForm("__proto__=x&constructor=y&toString=z");
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(form.__proto__).toBe("x");
    expect(form.constructor).toBe("y");
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("readPath", () => {
  const payload = { id: "evt_1", n: 42, nested: { deep: { id: "x" } }, nan: Number.NaN, flag: true, list: ["a"], none: null };

  it("reads strings and finite numbers by dot path", () => {
    expect(readPath(payload, ["id"])).toBe("evt_1");
    expect(readPath(payload, ["n"])).toBe("42");
    expect(readPath(payload, ["nested", "deep", "id"])).toBe("x");
    expect(readPath(payload, ["list", "0"])).toBe("a");
  });

  it("answers undefined for anything else", () => {
    for (const path of [["missing"], ["nested"], ["nan"], ["flag"], ["none"], ["none", "x"], ["id", "length"], ["nested", "deep", "id", "x"]]) {
      expect(readPath(payload, path)).toBeUndefined();
    }
    expect(readPath("text", ["length"])).toBeUndefined();
    expect(readPath(null, ["a"])).toBeUndefined();
  });
});
