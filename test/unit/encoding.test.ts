// The strict decoders both crypto paths share: a signature has exactly one spelling that
// decodes, so a malformed header can never decode to a shorter, different value.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64ToBytes, base64ToBytesPortable, bodyText, bytesToBase64, bytesToHex, hexToBytes, hexToBytesPortable, utf8Decode, utf8Encode } from "../../src/internal/encoding";
import { params, propTimeout } from "../property/support";

/** Bytes as a plain array: a Buffer and a Uint8Array with the same bytes compare equal. */
const list = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Array.from(bytes));

/** Fails unless both decoders give the same bytes, or both refuse (`expect` only on a mismatch: it is slow). */
function expectSameAnswer(text: string, native: (s: string) => Uint8Array | undefined, portable: (s: string) => Uint8Array | undefined): void {
  const a = list(native(text));
  const b = list(portable(text));
  if (!(a === undefined ? b === undefined : b !== undefined && a.join() === b.join())) expect({ text, native: a }).toEqual({ text, native: b });
}

describe("hexToBytes", () => {
  it("decodes hex of whole bytes in either case", () => {
    expect(list(hexToBytes("00ff10Ab"))).toEqual([0x00, 0xff, 0x10, 0xab]);
    expect(list(hexToBytes(""))).toEqual([]);
  });

  it.each(["0", "abc", "zz", "0g", " 00", "00 ", "0x00", "00\n", "+0"])("rejects %j, which Buffer would decode partially", (bad) => {
    expect(hexToBytes(bad)).toBeUndefined();
  });

  // Node's decoder reads a character above U+00FF by its low byte: "\u0130" would pass for "0".
  it.each(["\u0130\u0130", "aa\u0161a", "\u0100\u0100", "ab\u00e0\u00e1", "\ud800\udc00"])("rejects %j, which Buffer would decode by low bytes", (bad) => {
    expect(hexToBytes(bad)).toBeUndefined();
    expect(hexToBytesPortable(bad)).toBeUndefined();
  });

  it("gives the same answer on Node's native path and the portable path, for any string", () => {
    // Mostly hex digits, with anything else mixed in: the strings near the edge.
    const unit = fc.oneof(
      { arbitrary: fc.constantFrom(..."0123456789abcdefABCDEF"), weight: 40 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), weight: 1 },
      { arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), weight: 1 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 70 }), fc.string({ unit: "binary", maxLength: 70 })), (text) => {
        expectSameAnswer(text, hexToBytes, hexToBytesPortable);
      }),
      params(),
    );
  }, propTimeout(0.05));

  it("round-trips any bytes, like Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString("hex"));
        expect(list(hexToBytes(hex))).toEqual(list(bytes));
        expect(list(hexToBytes(hex.toUpperCase()))).toEqual(list(bytes));
        expect(list(hexToBytesPortable(hex.toUpperCase()))).toEqual(list(bytes));
      }),
      params(),
    );
  }, propTimeout(0.07));
});

describe("base64ToBytes", () => {
  it("gives the same answer on Node's native path and the portable (regex) path, for any string", () => {
    const unit = fc.oneof(
      { arbitrary: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), weight: 60 },
      { arbitrary: fc.constantFrom("=", "-", "_", " ", "\n", "\u0130", "\u0141", "\u00c1"), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), weight: 1 },
    );
    // Canonical encodings with one character changed, and strings of the alphabet and padding.
    const near = fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.nat(), unit).map(([bytes, at, c]) => {
      const b64 = bytesToBase64(bytes);
      const i = b64.length === 0 ? 0 : at % b64.length;
      return b64.slice(0, i) + c + b64.slice(i + 1);
    });
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ unit, maxLength: 90 }), fc.string({ unit: "binary", maxLength: 48 })), (text) => {
        expectSameAnswer(text, base64ToBytes, base64ToBytesPortable);
      }),
      params(),
    );
  }, propTimeout(0.05));

  it("decodes padded standard base64", () => {
    expect(list(base64ToBytes("aGk="))).toEqual(list(utf8Encode("hi")));
    expect(list(base64ToBytes("aGV5"))).toEqual(list(utf8Encode("hey")));
    expect(list(base64ToBytes(""))).toEqual([]);
  });

  it.each(["aGk", "aGk==", "a===", "a-_b", "aG k=", " aGk=", "aGk=\n", "aGk=aGk=", "****", "=aGk"])("rejects %j", (bad) => {
    expect(base64ToBytes(bad)).toBeUndefined();
  });

  // Each is something Buffer's lenient decoder turns into bytes of the right count: the
  // URL-safe alphabet, a character beyond ASCII read by its low byte ("\u0141" as "A"), and
  // a set bit past the data in each position the padding leaves unused.
  it.each(["ab-d", "ab_d", "aG\u0141=", "\u0141Gk=", "aI==", "aE==", "aC==", "aB==", "aGm=", "aGl="])("rejects %j, which Buffer alone would decode", (bad) => {
    expect(Buffer.from(bad, "base64").byteLength).toBe((bad.length / 4) * 3 - (bad.endsWith("==") ? 2 : bad.endsWith("=") ? 1 : 0));
    expect(base64ToBytes(bad)).toBeUndefined();
    expect(base64ToBytesPortable(bad)).toBeUndefined();
  });

  it("rejects non-canonical padding bits in signatures, and accepts them only when asked (secrets)", () => {
    // "aGk=" and "aGl=" decode to the same two bytes: only the first is canonical.
    expect(base64ToBytes("aGl=")).toBeUndefined();
    expect(list(base64ToBytes("aGl=", false))).toEqual(list(utf8Encode("hi")));
    expect(base64ToBytes("aR==")).toBeUndefined();
    expect(list(base64ToBytes("aR==", false))).toEqual(list(base64ToBytes("aQ==")));
  });

  it("round-trips any bytes, like Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const b64 = bytesToBase64(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString("base64"));
        expect(list(base64ToBytes(b64))).toEqual(list(bytes));
      }),
      params(),
    );
  }, propTimeout(0.07));

  it("encodes only the viewed bytes of a Uint8Array inside a larger buffer", () => {
    const big = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const view = big.subarray(2, 4);
    expect(bytesToHex(view)).toBe("0304");
    expect(bytesToBase64(view)).toBe(Buffer.from([3, 4]).toString("base64"));
  });
});

describe("UTF-8", () => {
  it("decodes what it encodes, for any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(utf8Decode(utf8Encode(s))).toBe(s);
        expect(bodyText(utf8Encode(s))).toBe(s);
        expect(bodyText(s)).toBe(s);
      }),
      params(),
    );
  }, propTimeout(0.04));

  it("replaces invalid sequences with U+FFFD and keeps a BOM", () => {
    expect(utf8Decode(new Uint8Array([0x61, 0xff, 0x62]))).toBe("a\uFFFDb");
    expect(utf8Decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe("\uFEFF{}");
  });

  it("decodes a view into a larger buffer, not the whole buffer", () => {
    const big = utf8Encode("xx{\"a\":1}yy");
    expect(utf8Decode(big.subarray(2, 9))).toBe('{"a":1}');
  });
});
