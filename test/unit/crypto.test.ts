// The two crypto implementations must agree with each other and with node:crypto's
// reference on every key, message and algorithm.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digest, prepareHmacKey, resolveCrypto, timingSafeEqual, type HmacAlgorithm } from "../../src/internal/crypto";
import { params, propTimeout } from "../property/support";

const algorithms: HmacAlgorithm[] = ["sha1", "sha256", "sha512"];
const part = fc.oneof(fc.string({ unit: "binary", maxLength: 64 }), fc.uint8Array({ maxLength: 64 }));

describe("HMAC on both paths", () => {
  it.each(algorithms)("%s: node and web give node:crypto's digest of the concatenated parts", async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.array(part, { maxLength: 5 }), async (key, parts) => {
        const reference = createHmac(algorithm, key);
        for (const p of parts) reference.update(p);
        const expected = new Uint8Array(reference.digest());
        const node = prepareHmacKey(algorithm, key, "node");
        const web = prepareHmacKey(algorithm, key, "web");
        expect(new Uint8Array(await node.sign(parts))).toEqual(expected);
        expect(new Uint8Array(await web.sign(parts))).toEqual(expected);
        expect(node.length).toBe(expected.length);
        expect(web.length).toBe(expected.length);
      }),
      params(),
    );
  }, propTimeout(0.45));

  it.each(algorithms)("%s: plain digests agree", async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 4 }), async (parts) => {
        const node = new Uint8Array(await digest(algorithm, parts, "node"));
        const web = new Uint8Array(await digest(algorithm, parts, "web"));
        expect(web).toEqual(node);
      }),
      params(),
    );
  }, propTimeout(0.22));
});

describe("timingSafeEqual", () => {
  it("agrees on both paths for equal, different and differently sized inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const expected = Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
        expect(timingSafeEqual(a, b, "node")).toBe(expected);
        expect(timingSafeEqual(a, b, "web")).toBe(expected);
        expect(timingSafeEqual(a, new Uint8Array(a), "node")).toBe(true);
        expect(timingSafeEqual(a, new Uint8Array(a), "web")).toBe(true);
      }),
      params(),
    );
  }, propTimeout(0.05));

  it("refuses a length mismatch without throwing (node:crypto's own would throw)", () => {
    expect(timingSafeEqual(new Uint8Array(32), new Uint8Array(31), "node")).toBe(false);
    expect(timingSafeEqual(new Uint8Array(32), new Uint8Array(31), "web")).toBe(false);
  });
});

describe("resolveCrypto", () => {
  it("uses node:crypto on Node unless Web Crypto is forced", () => {
    expect(resolveCrypto(undefined)).toBe("node");
    expect(resolveCrypto("node")).toBe("node");
    expect(resolveCrypto("web")).toBe("web");
  });
});
