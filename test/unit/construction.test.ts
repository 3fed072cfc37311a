// Caller mistakes throw a TypeError when the scheme is built, naming the option and what it
// expected, instead of failing every request later.
import { describe, expect, it } from "vitest";
import { hmacScheme, type HmacSchemeOptions } from "../../src/schemes/hmac";
import { github } from "../../src/schemes/github";
import { shopify } from "../../src/schemes/shopify";
import { slack } from "../../src/schemes/slack";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import { verifyWebhook } from "../../src/verify";
import { CRYPTO_IMPLS } from "../helpers/crypto-impls";

type Factory = (options: { secret: never; toleranceSeconds?: never; crypto?: "node" | "web" }) => unknown;

const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const factories: [string, Factory, string][] = [
  ["stripe()", stripe as Factory, "whsec_test"],
  ["github()", github as Factory, "gh-secret"],
  ["standardWebhooks()", standardWebhooks as Factory, SW_SECRET],
  ["slack()", slack as Factory, "slack-secret"],
  ["shopify()", shopify as Factory, "shpss_secret"],
];

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe.each(factories)("%s construction", (where, factory, good) => {
  const build = (options: Record<string, unknown>) => factory(options as never);

  it.each(CRYPTO_IMPLS)("builds with a valid secret and one rotation list (crypto: %s)", (crypto) => {
    expect(() => build({ secret: good, crypto })).not.toThrow();
    expect(() => build({ secret: [good, good], crypto })).not.toThrow();
  });

  it.each([
    ["no options", undefined, /needs `secret`/],
    ["no secret", {}, /needs `secret`/],
    ["a number", { secret: 42 }, /needs `secret`/],
    ["an empty array", { secret: [] }, /needs `secret`: a non-empty string, or an array of them/],
    ["an empty string", { secret: "" }, /`secret` must be a non-empty string, got an empty string/],
    ["an empty string in the array", { secret: [good, ""] }, /`secret\[1\]` must be a non-empty string, got an empty string/],
    ["a non-string in the array", { secret: [good, 7] }, /`secret\[1\]` must be a non-empty string, got number/],
    ["null in the array", { secret: [null, good] }, /`secret\[0\]` must be a non-empty string, got object/],
  ])("throws a TypeError naming the option for %s", (_label, options, message) => {
    const error = thrown(() => factory(options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(where);
    expect(error.message).toMatch(message);
  });
});

describe.each([
  ["stripe()", stripe as Factory, "whsec_test"],
  ["standardWebhooks()", standardWebhooks as Factory, SW_SECRET],
  ["slack()", slack as Factory, "slack-secret"],
] as const)("%s toleranceSeconds", (where, factory, secret) => {
  it.each([
    [-1, "-1"],
    [Number.NaN, "NaN"],
    [Number.NEGATIVE_INFINITY, "-Infinity"],
    ["300", "string"],
  ])("rejects %s with a TypeError naming toleranceSeconds", (toleranceSeconds, shown) => {
    const error = thrown(() => factory({ secret, toleranceSeconds } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(`${where}: \`toleranceSeconds\` must be a number of seconds >= 0`);
    expect(error.message).toContain(`got ${shown}`);
  });

  it.each([0, 1, 300, 86_400, Number.POSITIVE_INFINITY])("accepts %s and exposes it on the scheme", (toleranceSeconds) => {
    expect((factory({ secret, toleranceSeconds } as never) as { toleranceSeconds: number }).toleranceSeconds).toBe(toleranceSeconds);
  });

  it("defaults to 300 s", () => {
    expect((factory({ secret } as never) as { toleranceSeconds: number }).toleranceSeconds).toBe(300);
  });
});

describe("schemes without a signed timestamp", () => {
  it("expose no tolerance", () => {
    expect(github({ secret: "s" }).toleranceSeconds).toBeUndefined();
    expect(shopify({ secret: "s" }).toleranceSeconds).toBeUndefined();
  });
});

describe("standardWebhooks() secrets", () => {
  it.each([
    ["whsec_ and nothing else", "whsec_"],
    ["characters outside base64", "whsec_not*base64!"],
    ["base64url characters", "whsec_ab-_cd-_ef-_gh-_"],
    ["a Stripe-style secret", "whsec_test_secret_with_underscores"],
    ["spaces", "whsec_aGVsbG8gd29y bGQ="],
  ])("rejects %s with a TypeError that names the option and not the value", (_label, secret) => {
    const error = thrown(() => standardWebhooks({ secret }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain("standardWebhooks(): `secret` is not valid base64 after the optional whsec_ prefix");
    // The message names the whsec_ format itself; what must never appear is the secret's own material.
    const material = secret.slice("whsec_".length);
    if (material) expect(error.message).not.toContain(material);
  });

  it("names the index of a bad secret in a rotation list", () => {
    const error = thrown(() => standardWebhooks({ secret: [SW_SECRET, "whsec_%%%%"] }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain("`secret[1]` is not valid base64");
  });

  it("accepts a secret without the whsec_ prefix and one that lost its padding", () => {
    expect(() => standardWebhooks({ secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })).not.toThrow();
    expect(() => standardWebhooks({ secret: "whsec_dGhyZWUgYnl0ZXM" })).not.toThrow();
  });
});

describe("hmacScheme() options", () => {
  const base: HmacSchemeOptions = { name: "acme", secret: "acme-secret", signature: { header: "x-acme-signature" } };
  const build = (patch: Partial<Record<keyof HmacSchemeOptions, unknown>>) => () => hmacScheme({ ...base, ...patch } as HmacSchemeOptions);

  it.each(CRYPTO_IMPLS)("builds a minimal scheme (crypto: %s)", (crypto) => {
    expect(hmacScheme({ ...base, crypto }).name).toBe("acme");
  });

  it.each([
    ["a missing name", { name: undefined }, /hmacScheme\(\) needs `name`/],
    ["an empty name", { name: "" }, /hmacScheme\(\) needs `name`/],
    ["an unknown placeholder", { signedContent: "{timestamp}.{payload}", timestamp: { header: "x-ts", unit: "s" } }, /`signedContent` has an unknown placeholder \{payload\}/],
    ["{body} twice", { signedContent: "{body}.{body}" }, /`signedContent` may contain \{body\} only once/],
    ["{timestamp} without a timestamp source", { signedContent: "{timestamp}.{body}" }, /`signedContent` uses \{timestamp\}, so `timestamp` must say which header or signature entry carries it/],
    ["{timestamp} with the timestamp in the body", { signedContent: "{timestamp}.{body}", timestamp: { body: "ts", unit: "ms" } }, /`signedContent` uses \{timestamp\}/],
    ["{id} without an id header", { signedContent: "{id}.{body}" }, /`signedContent` uses \{id\}, so `id` must name the header/],
    ["{id} with the id in the body", { signedContent: "{id}.{body}", id: { body: "id" } }, /`signedContent` uses \{id\}/],
    ["prefix and pairs together", { signature: { header: "x-sig", prefix: "sha256=", pairs: { separator: ",", key: "v1" } } }, /give at most one of `signature.prefix`, `signature.pairs` and `signature.list`/],
    ["pairs and list together", { signature: { header: "x-sig", pairs: { separator: ",", key: "v1" }, list: { separator: " ", prefix: "v1," } } }, /give at most one of/],
    ["no signature header", { signature: {} }, /`signature.header` must name the header/],
    ["an empty list of signature headers", { signature: { header: [] } }, /`signature.header` must name the header/],
    ["no signature at all", { signature: undefined }, /`signature.header` must name the header/],
    ["an unknown algorithm", { algorithm: "md5" }, /`algorithm` must be "sha1", "sha256" or "sha512", got "md5"/],
    ["an unknown encoding", { signature: { header: "x-sig", encoding: "base32" } }, /`signature.encoding` must be "hex" or "base64"/],
    ["a blank pairs separator", { signature: { header: "x-sig", pairs: { separator: " ", key: "v1" } } }, /`signature.pairs` needs a non-blank `separator` and a `key`/],
    ["a pairs key missing", { signature: { header: "x-sig", pairs: { separator: ",", key: "" } } }, /`signature.pairs` needs/],
    ["a list without prefix", { signature: { header: "x-sig", list: { separator: " ", prefix: "" } } }, /`signature.list` needs `separator` and `prefix`/],
    ["timestamp.signatureKey without pairs", { signedContent: "{timestamp}.{body}", timestamp: { signatureKey: "t", unit: "s" } }, /`timestamp.signatureKey` needs `signature.pairs`/],
    ["an unknown timestamp unit", { timestamp: { header: "x-ts", unit: "minutes" } }, /`timestamp.unit` must be "s", "ms" or "rfc3339"/],
    ["a negative tolerance", { timestamp: { header: "x-ts", unit: "s" }, toleranceSeconds: -5 }, /`toleranceSeconds` must be a number of seconds >= 0/],
    ["a NaN tolerance", { timestamp: { header: "x-ts", unit: "s" }, toleranceSeconds: Number.NaN }, /`toleranceSeconds` must be a number of seconds >= 0 \(Infinity disables the check\), got NaN/],
    ["an empty secret list", { secret: [] }, /needs `secret`/],
    ["a non-string secret in the list", { secret: ["a", 1] }, /`secret\[1\]` must be a non-empty string/],
    ["a secret that is not base64 with secretFormat base64", { secretFormat: "base64", secret: "***" }, /`secret` is not valid base64/],
  ])("throws a TypeError for %s", (_label, patch, message) => {
    const error = thrown(build(patch));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    // Without a usable name the message cannot quote it; every other one says which scheme.
    if (!("name" in patch)) expect(error.message).toContain('hmacScheme({ name: "acme" })');
  });

  it("ignores the tolerance of a scheme that signs no timestamp", () => {
    expect(hmacScheme({ ...base, toleranceSeconds: 5 }).toleranceSeconds).toBeUndefined();
  });

  it("treats placeholders it does not own as literal text", async () => {
    // {Body} and {1} are not placeholders: they are signed as written.
    const scheme = hmacScheme({ ...base, signedContent: "{Body}{1}{body}" });
    const { createHmac } = await import("node:crypto");
    const sig = createHmac("sha256", "acme-secret").update("{Body}{1}{}").digest("hex");
    await expect(verifyWebhook({ body: "{}", headers: { "x-acme-signature": sig } }, scheme)).resolves.toMatchObject({ payload: {} });
  });
});

describe("per-call options", () => {
  const scheme = stripe({ secret: "whsec_test" });
  const request = { body: "{}", headers: { "stripe-signature": `t=1700000000,v1=${"0".repeat(64)}` } };

  it.each([
    [-1, "got -1"],
    [Number.NaN, "got NaN"],
    ["10", "got string"],
  ])("rejects options.toleranceSeconds = %s with a TypeError naming it", async (toleranceSeconds, shown) => {
    const error = await verifyWebhook(request, scheme, { toleranceSeconds: toleranceSeconds as number }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain("options.toleranceSeconds must be a number of seconds >= 0");
    expect((error as Error).message).toContain(shown);
  });

  it.each([
    ["an invalid Date", new Date(Number.NaN)],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a string", "2024-01-01"],
  ])("rejects options.now = %s with a TypeError naming it", async (_label, now) => {
    const error = await verifyWebhook(request, scheme, { now: now as number }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/`now` must be a Date or epoch milliseconds/);
  });
});
