// readHeader: one answer for every header shape servers hand out.
import { describe, expect, it } from "vitest";
import { readHeader } from "../../src/headers";

describe("readHeader", () => {
  it("reads a plain record case-insensitively", () => {
    const headers = { "Stripe-Signature": "t=1,v1=a", "content-type": "application/json" };
    expect(readHeader(headers, "stripe-signature")).toBe("t=1,v1=a");
    expect(readHeader(headers, "content-type")).toBe("application/json");
    expect(readHeader(headers, "x-missing")).toBeUndefined();
  });

  it("reads a Headers object", () => {
    const headers = new Headers({ "X-Hub-Signature-256": "sha256=abc" });
    expect(readHeader(headers, "x-hub-signature-256")).toBe("sha256=abc");
    expect(readHeader(headers, "x-missing")).toBeUndefined();
  });

  it("joins repeated values with ', ', as Headers#get does, so every shape agrees", () => {
    const web = new Headers();
    web.append("x-multi", "a");
    web.append("x-multi", "b");
    const node = { "x-multi": ["a", "b"] };
    expect(readHeader(node, "x-multi")).toBe("a, b");
    expect(readHeader(web, "x-multi")).toBe(readHeader(node, "x-multi"));
    expect(readHeader({ "X-Multi": ["only"] }, "x-multi")).toBe("only");
  });

  it("treats undefined values as absent and stringifies numbers", () => {
    expect(readHeader({ "x-a": undefined }, "x-a")).toBeUndefined();
    expect(readHeader({ "content-length": 42 }, "content-length")).toBe("42");
  });

  it("prefers the exact lower-case name, then any casing", () => {
    expect(readHeader({ "X-A": "upper", "x-a": "lower" }, "x-a")).toBe("lower");
    expect(readHeader({ "X-A": "upper" }, "x-a")).toBe("upper");
    // Whatever the first character: the scan's quick first-character test never skips a match.
    expect(readHeader({ "_Under": "1" }, "_under")).toBe("1");
    expect(readHeader({ "@At-X": "2" }, "@at-x")).toBe("2");
    expect(readHeader({ "ÀB": "3" }, "àb")).toBe("3");
    expect(readHeader({ "ĀB": "4" }, "āb")).toBe("4");
    expect(readHeader({ "Content-Length": "5", "Svix-Signature": "6" }, "svix-signature")).toBe("6");
  });

  it("works on records without a prototype and never reads inherited properties as headers", () => {
    const bare = Object.assign(Object.create(null) as Record<string, string>, { "X-Event": "push" });
    expect(readHeader(bare, "x-event")).toBe("push");
    expect(readHeader({}, "constructor")).toBeUndefined();
    expect(readHeader({}, "tostring")).toBeUndefined();
  });

  it("keeps an empty value distinct from an absent header", () => {
    expect(readHeader({ "x-empty": "" }, "x-empty")).toBe("");
    expect(readHeader(new Headers({ "x-empty": "" }), "x-empty")).toBe("");
  });
});
