// The standardwebhooks reference library and Svix's SDK are the oracles: they sign, we
// verify; we sign, they verify.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { BODY_SHAPES, CRYPTO_IMPLS, bodyAs, expectCode, jsonBody, tamperBody, tamperBase64 } from "../helpers/crypto-impls";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const OTHER = `whsec_${randomBytes(24).toString("base64")}`;
const RUNS = 100;
const T0 = 1_700_000_000;

const msgId = fc.string({ minLength: 1, maxLength: 30, unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") }).map((s) => `msg_${s}`);
const timestamp = fc.integer({ min: T0, max: T0 + 86_400 * 365 });
const skew = fc.integer({ min: -300_000, max: 300_000 });

function sigOf(header: string): string {
  return header.slice("v1,".length);
}

describe.each(CRYPTO_IMPLS)("standard webhooks interop (crypto: %s)", (impl) => {
  const scheme = standardWebhooks({ secret: SECRET, crypto: impl });
  const reference = new Webhook(SECRET);
  const svix = new SvixWebhook(SECRET);

  // The reference libraries check timestamps against the real clock only.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("verifies what the standardwebhooks library signs, for every body shape", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, msgId, timestamp, skew, fc.constantFrom(...BODY_SHAPES), async ({ event, body }, id, ts, offset, shape) => {
        const signature = reference.sign(id, new Date(ts * 1000), body);
        const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature };
        const verified = await verifyWebhook({ body: bodyAs(body, shape), headers }, scheme, { now: ts * 1000 + offset });
        expect(verified.id).toBe(id);
        expect(verified.type).toBe(event.type);
        expect(verified.timestamp?.getTime()).toBe(ts * 1000);
        expect(verified.secretIndex).toBe(0);
        expect(verified.scheme).toBe("standard-webhooks");
        expect(verified.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: RUNS },
    );
  });

  it("verifies Svix-branded svix-* headers signed by the Svix SDK", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, msgId, timestamp, async ({ event, body }, id, ts) => {
        const headers = { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": svix.sign(id, new Date(ts * 1000), body) };
        vi.setSystemTime(ts * 1000);
        // The SDK itself accepts them, so this is a request Svix would really send.
        expect(svix.verify(body, headers)).toEqual(JSON.parse(body));
        const verified = await verifyWebhook({ body, headers }, scheme, { now: ts * 1000 });
        expect(verified.id).toBe(id);
        expect(verified.type).toBe(event.type);
      }),
      { numRuns: RUNS },
    );
  });

  it("signs webhook-* headers that standardwebhooks and svix accept", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, msgId, timestamp, async ({ body }, id, ts) => {
        const headers = await signWebhook(body, scheme, { id, timestamp: ts * 1000 });
        expect(headers["webhook-id"]).toBe(id);
        expect(headers["webhook-timestamp"]).toBe(String(ts));
        expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
        vi.setSystemTime(ts * 1000);
        expect(reference.verify(body, headers as Record<string, string>)).toEqual(JSON.parse(body));
        expect(reference.verify(Buffer.from(body), headers as Record<string, string>)).toEqual(JSON.parse(body));
        expect(svix.verify(body, headers as Record<string, string>)).toEqual(JSON.parse(body));
        // Not vacuous: the libraries reject the same headers over another body.
        expect(() => reference.verify(`${body} `, headers as Record<string, string>)).toThrow(/No matching signature/);
      }),
      { numRuns: RUNS },
    );
  });

  it("signs with a random id when none is given", async () => {
    const body = JSON.stringify({ type: "user.created" });
    const a = await signWebhook(body, scheme, { timestamp: T0 * 1000 });
    const b = await signWebhook(body, scheme, { timestamp: T0 * 1000 });
    expect(a["webhook-id"]).toBeTruthy();
    expect(a["webhook-id"]).not.toBe(b["webhook-id"]);
    vi.setSystemTime(T0 * 1000);
    expect(reference.verify(body, a as Record<string, string>)).toEqual({ type: "user.created" });
  });

  it("rejects every tampered variant of a library-signed request with the exact code", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, msgId, timestamp, fc.nat(), fc.integer({ min: 1, max: 200 }), async ({ body }, id, ts, index, shift) => {
        const signature = reference.sign(id, new Date(ts * 1000), body);
        const good = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature };
        const now = ts * 1000;
        await expect(verifyWebhook({ body, headers: good }, scheme, { now })).resolves.toBeDefined();

        const variants: [string | Buffer, Record<string, string>][] = [
          [tamperBody(body, index), good],
          [body, { ...good, "webhook-timestamp": String(ts + shift) }],
          [body, { ...good, "webhook-id": `${id}x` }],
          [body, { ...good, "webhook-signature": `v1,${tamperBase64(sigOf(signature), index)}` }],
          [body, { ...good, "webhook-signature": new Webhook(OTHER).sign(id, new Date(ts * 1000), body) }],
        ];
        vi.setSystemTime(now);
        for (const [b, headers] of variants) {
          await expectCode(verifyWebhook({ body: b, headers }, scheme, { now }), "signature_mismatch");
          expect(() => reference.verify(b as string, headers)).toThrow();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("accepts one matching v1 in a space-separated list, skips other versions, and reports the secret used", async () => {
    const rolling = standardWebhooks({ secret: [SECRET, OTHER], crypto: impl });
    await fc.assert(
      fc.asyncProperty(jsonBody, msgId, timestamp, async ({ body }, id, ts) => {
        const date = new Date(ts * 1000);
        const mine = reference.sign(id, date, body);
        const theirs = new Webhook(OTHER).sign(id, date, body);
        const base = { "webhook-id": id, "webhook-timestamp": String(ts) };
        const now = ts * 1000;
        const list = `v1a,${"A".repeat(86)}== ${theirs} v2,abc ${mine}`;
        vi.setSystemTime(now);
        expect(reference.verify(body, { ...base, "webhook-signature": list })).toEqual(JSON.parse(body));
        expect((await verifyWebhook({ body, headers: { ...base, "webhook-signature": list } }, scheme, { now })).secretIndex).toBe(0);
        expect((await verifyWebhook({ body, headers: { ...base, "webhook-signature": theirs } }, rolling, { now })).secretIndex).toBe(1);
        await expectCode(verifyWebhook({ body, headers: { ...base, "webhook-signature": theirs } }, scheme, { now }), "signature_mismatch");
      }),
      { numRuns: 50 },
    );
  });

  it("applies the same two-sided ±300 s window as the reference library", async () => {
    const id = "msg_window";
    const body = JSON.stringify({ type: "user.created" });
    const headers = { "webhook-id": id, "webhook-timestamp": String(T0), "webhook-signature": reference.sign(id, new Date(T0 * 1000), body) };
    for (const [offset, code] of [
      [301, "timestamp_too_old"],
      [-301, "timestamp_too_new"],
      [300, undefined],
      [-300, undefined],
    ] as const) {
      const now = (T0 + offset) * 1000;
      vi.setSystemTime(now);
      if (code) {
        expect(() => reference.verify(body, headers)).toThrow(/Message timestamp too (old|new)/);
        await expectCode(verifyWebhook({ body, headers }, scheme, { now }), code);
      } else {
        expect(reference.verify(body, headers)).toEqual({ type: "user.created" });
        await expect(verifyWebhook({ body, headers }, scheme, { now })).resolves.toMatchObject({ id });
      }
    }
  });

  it("prefers svix-* over webhook-* when a request carries both, as the Svix SDK does", async () => {
    const id = "msg_both";
    const body = JSON.stringify({ type: "user.created" });
    const svixHeaders = { "svix-id": id, "svix-timestamp": String(T0), "svix-signature": svix.sign(id, new Date(T0 * 1000), body) };
    // Stale unbranded headers from another delivery, e.g. left by a proxy.
    const stale = { "webhook-id": "msg_other", "webhook-timestamp": String(T0 - 10), "webhook-signature": svix.sign("msg_other", new Date((T0 - 10) * 1000), "{}") };
    const headers = { ...stale, ...svixHeaders };
    vi.setSystemTime(T0 * 1000);
    expect(svix.verify(body, headers)).toEqual({ type: "user.created" });
    const verified = await verifyWebhook({ body, headers }, scheme, { now: T0 * 1000 });
    expect(verified.id).toBe(id);
    expect(verified.timestamp?.getTime()).toBe(T0 * 1000);
  });

  it("uses the base64 bytes after whsec_ as the key, with or without the prefix", async () => {
    const raw = randomBytes(32).toString("base64");
    const body = JSON.stringify({ type: "a.b" });
    const withPrefix = standardWebhooks({ secret: `whsec_${raw}`, crypto: impl });
    const without = standardWebhooks({ secret: raw, crypto: impl });
    const signature = new Webhook(`whsec_${raw}`).sign("msg_1", new Date(T0 * 1000), body);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(T0), "webhook-signature": signature };
    await expect(verifyWebhook({ body, headers }, withPrefix, { now: T0 * 1000 })).resolves.toMatchObject({ id: "msg_1" });
    await expect(verifyWebhook({ body, headers }, without, { now: T0 * 1000 })).resolves.toMatchObject({ id: "msg_1" });
  });
});
