// Stripe's own SDK is the oracle: it signs, we verify; we sign, it verifies.
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripe } from "../../src/schemes/stripe";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { BODY_SHAPES, CRYPTO_IMPLS, bodyAs, expectCode, jsonBody, tamperBody, tamperHex } from "../helpers/crypto-impls";

const sdk = new Stripe("sk_test_x");
const SECRET = "whsec_interop_test_secret_1234567890";
const OTHER = "whsec_another_secret_abcdefghijklmno";
const RUNS = 100;
// A fixed, realistic epoch (2023-11-14): the SDK's verifier is given the same clock via receivedAt.
const T0 = 1_700_000_000;

const timestamp = fc.integer({ min: T0, max: T0 + 86_400 * 365 });
// Our clock, anywhere inside the default ±300 s window around the signed timestamp.
const skew = fc.integer({ min: -300_000, max: 300_000 });

function v1(header: string): string {
  const sig = header.split(",").find((p) => p.startsWith("v1="));
  if (!sig) throw new Error("no v1 in header");
  return sig.slice(3);
}

describe.each(CRYPTO_IMPLS)("stripe interop (crypto: %s)", (impl) => {
  const scheme = stripe({ secret: SECRET, crypto: impl });

  it("verifies what the Stripe SDK signs, for every body shape", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, timestamp, skew, fc.constantFrom(...BODY_SHAPES), async ({ event, body }, ts, offset, shape) => {
        const header = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: ts });
        const verified = await verifyWebhook({ body: bodyAs(body, shape), headers: { "Stripe-Signature": header } }, scheme, { now: ts * 1000 + offset });
        expect(verified.id).toBe(event.id);
        expect(verified.type).toBe(event.type);
        expect(verified.timestamp?.getTime()).toBe(ts * 1000);
        expect(verified.secretIndex).toBe(0);
        expect(verified.scheme).toBe("stripe");
        expect(verified.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: RUNS },
    );
  });

  it("verifies what the SDK's async (Web Crypto) signer produces", async () => {
    const subtle = Stripe.createSubtleCryptoProvider();
    await fc.assert(
      fc.asyncProperty(jsonBody, timestamp, async ({ event, body }, ts) => {
        const header = await sdk.webhooks.generateTestHeaderStringAsync({ payload: body, secret: SECRET, timestamp: ts, cryptoProvider: subtle });
        const verified = await verifyWebhook({ body, headers: { "stripe-signature": header } }, scheme, { now: ts * 1000 });
        expect(verified.id).toBe(event.id);
      }),
      { numRuns: RUNS },
    );
  });

  it("signs what the Stripe SDK's constructEvent and constructEventAsync accept", async () => {
    const subtle = Stripe.createSubtleCryptoProvider();
    await fc.assert(
      fc.asyncProperty(jsonBody, timestamp, async ({ event, body }, ts) => {
        const headers = await signWebhook(body, scheme, { timestamp: ts * 1000 });
        expect(Object.keys(headers)).toContain("stripe-signature");
        const header = headers["stripe-signature"]!;
        expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        const receivedAt = ts * 1000;
        const sync = sdk.webhooks.constructEvent(body, header, SECRET, 300, undefined, receivedAt);
        expect(sync.id).toBe(event.id);
        const fromBuffer = sdk.webhooks.constructEvent(Buffer.from(body), header, SECRET, 300, undefined, receivedAt);
        expect(fromBuffer.type).toBe(event.type);
        const async = await sdk.webhooks.constructEventAsync(body, header, SECRET, 300, subtle, receivedAt);
        expect(async.id).toBe(event.id);
        // And the SDK would reject the same header over another body: the acceptance above is not vacuous.
        expect(() => sdk.webhooks.constructEvent(`${body} `, header, SECRET, 300, undefined, receivedAt)).toThrow(/No signatures found/);
      }),
      { numRuns: RUNS },
    );
  });

  it("rejects every tampered variant of an SDK-signed request with the exact code", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, timestamp, fc.nat(), fc.integer({ min: 1, max: 200 }), async ({ body }, ts, index, shift) => {
        const header = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: ts });
        const now = ts * 1000;
        const sig = v1(header);
        // The untampered request passes: every rejection below is caused by its one change.
        await expect(verifyWebhook({ body, headers: { "stripe-signature": header } }, scheme, { now })).resolves.toBeDefined();

        await expectCode(verifyWebhook({ body: tamperBody(body, index), headers: { "stripe-signature": header } }, scheme, { now }), "signature_mismatch");
        const otherTs = `t=${ts + shift},v1=${sig}`;
        await expectCode(verifyWebhook({ body, headers: { "stripe-signature": otherTs } }, scheme, { now }), "signature_mismatch");
        const otherSig = `t=${ts},v1=${tamperHex(sig, index)}`;
        await expectCode(verifyWebhook({ body, headers: { "stripe-signature": otherSig } }, scheme, { now }), "signature_mismatch");
        const wrongSecret = sdk.webhooks.generateTestHeaderString({ payload: body, secret: OTHER, timestamp: ts });
        await expectCode(verifyWebhook({ body, headers: { "stripe-signature": wrongSecret } }, scheme, { now }), "signature_mismatch");
        // The SDK agrees on all four.
        for (const [b, h] of [
          [tamperBody(body, index), header],
          [body, otherTs],
          [body, otherSig],
          [body, wrongSecret],
        ] as const) {
          expect(() => sdk.webhooks.constructEvent(b, h, SECRET, 300, undefined, now)).toThrow();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("accepts one matching v1 among several while a secret rolls, and reports which secret matched", async () => {
    const rolling = stripe({ secret: [SECRET, OTHER], crypto: impl });
    await fc.assert(
      fc.asyncProperty(jsonBody, timestamp, fc.boolean(), async ({ body }, ts, newFirst) => {
        // Stripe sends one v1 per active secret, all over the same t.
        const withNew = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: ts });
        const withOld = sdk.webhooks.generateTestHeaderString({ payload: body, secret: OTHER, timestamp: ts });
        const both = newFirst ? `t=${ts},v1=${v1(withNew)},v1=${v1(withOld)}` : `t=${ts},v1=${v1(withOld)},v1=${v1(withNew)}`;
        const now = ts * 1000;
        expect((await verifyWebhook({ body, headers: { "stripe-signature": both } }, rolling, { now })).secretIndex).toBe(0);
        expect((await verifyWebhook({ body, headers: { "stripe-signature": withOld } }, rolling, { now })).secretIndex).toBe(1);
        await expectCode(verifyWebhook({ body, headers: { "stripe-signature": withOld } }, scheme, { now }), "signature_mismatch");
      }),
      { numRuns: 50 },
    );
  });

  it("rejects an SDK-signed request outside the window, on both sides", async () => {
    const ts = T0;
    const body = JSON.stringify({ id: "evt_window", type: "invoice.paid" });
    const header = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: ts });
    const request = { body, headers: { "stripe-signature": header } };
    await expectCode(verifyWebhook(request, scheme, { now: (ts + 301) * 1000 }), "timestamp_too_old");
    expect(() => sdk.webhooks.constructEvent(body, header, SECRET, 300, undefined, (ts + 301) * 1000)).toThrow(/tolerance/);
    // Stripe's SDK accepts future timestamps; hookguard's window is two-sided by design.
    await expectCode(verifyWebhook(request, scheme, { now: (ts - 301) * 1000 }), "timestamp_too_new");
    await expect(verifyWebhook(request, scheme, { now: (ts + 300) * 1000 })).resolves.toMatchObject({ id: "evt_window" });
    await expect(verifyWebhook(request, scheme, { now: (ts - 300) * 1000 })).resolves.toMatchObject({ id: "evt_window" });
  });

  it("ignores v0 and other schemes in the header, as the SDK does", async () => {
    const body = JSON.stringify({ id: "evt_v0", type: "invoice.paid" });
    const v0Only = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: T0, scheme: "v0" });
    expect(v0Only).toMatch(/^t=\d+,v0=/);
    expect(() => sdk.webhooks.constructEvent(body, v0Only, SECRET, 300, undefined, T0 * 1000)).toThrow(/No signatures found with expected scheme/);
    await expectCode(verifyWebhook({ body, headers: { "stripe-signature": v0Only } }, scheme, { now: T0 * 1000 }), "malformed_header");
    const good = sdk.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: T0 });
    const mixed = `${good},v0=${v1(good)}`;
    expect(sdk.webhooks.constructEvent(body, mixed, SECRET, 300, undefined, T0 * 1000).id).toBe("evt_v0");
    await expect(verifyWebhook({ body, headers: { "stripe-signature": mixed } }, scheme, { now: T0 * 1000 })).resolves.toMatchObject({ id: "evt_v0" });
  });
});
