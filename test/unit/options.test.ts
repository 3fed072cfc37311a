// options.now and options.toleranceSeconds of verifyWebhook, and the scheme's own window.
// Requests are signed by the Stripe SDK and the standardwebhooks library, not by hookguard.
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { github } from "../../src/schemes/github";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import { verifyWebhook } from "../../src/verify";
import { CRYPTO_IMPLS, expectCode } from "../helpers/crypto-impls";

const sdk = new Stripe("sk_test_x");
const SECRET = "whsec_options_test";
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const T = 1_700_000_000;
const BODY = JSON.stringify({ id: "evt_opt", type: "charge.succeeded" });

function stripeRequest(timestamp = T) {
  return { body: BODY, headers: { "stripe-signature": sdk.webhooks.generateTestHeaderString({ payload: BODY, secret: SECRET, timestamp }) } };
}

function swRequest(timestamp = T) {
  const signature = new Webhook(SW_SECRET).sign("msg_opt", new Date(timestamp * 1000), BODY);
  return { body: BODY, headers: { "webhook-id": "msg_opt", "webhook-timestamp": String(timestamp), "webhook-signature": signature } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe.each(CRYPTO_IMPLS)("options (crypto: %s)", (crypto) => {
  const scheme = stripe({ secret: SECRET, crypto });

  it("takes options.now as a Date or as epoch milliseconds, with the same result", async () => {
    for (const offset of [-300_000, 0, 299_999, 300_000]) {
      const asNumber = await verifyWebhook(stripeRequest(), scheme, { now: T * 1000 + offset });
      const asDate = await verifyWebhook(stripeRequest(), scheme, { now: new Date(T * 1000 + offset) });
      expect(asDate).toEqual(asNumber);
    }
    for (const offset of [300_001, 10_000_000]) {
      await expectCode(verifyWebhook(stripeRequest(), scheme, { now: T * 1000 + offset }), "timestamp_too_old");
      await expectCode(verifyWebhook(stripeRequest(), scheme, { now: new Date(T * 1000 + offset) }), "timestamp_too_old");
      await expectCode(verifyWebhook(stripeRequest(), scheme, { now: new Date(T * 1000 - offset) }), "timestamp_too_new");
    }
  });

  it("uses the real clock when options.now is not given", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T * 1000 + 100_000);
    await expect(verifyWebhook(stripeRequest(), scheme)).resolves.toMatchObject({ id: "evt_opt" });
    vi.setSystemTime(T * 1000 + 301_000);
    await expectCode(verifyWebhook(stripeRequest(), scheme), "timestamp_too_old");
    vi.setSystemTime(T * 1000 - 301_000);
    await expectCode(verifyWebhook(stripeRequest(), scheme), "timestamp_too_new");
  });

  it("lets options.toleranceSeconds widen the scheme's window for one call", async () => {
    const tight = stripe({ secret: SECRET, toleranceSeconds: 10, crypto });
    const now = (T + 500) * 1000;
    await expectCode(verifyWebhook(stripeRequest(), tight, { now }), "timestamp_too_old");
    await expect(verifyWebhook(stripeRequest(), tight, { now, toleranceSeconds: 600 })).resolves.toMatchObject({ id: "evt_opt" });
    // The override lasts for that call only.
    await expectCode(verifyWebhook(stripeRequest(), tight, { now }), "timestamp_too_old");
  });

  it("lets options.toleranceSeconds narrow the scheme's window for one call", async () => {
    const now = (T + 6) * 1000;
    await expect(verifyWebhook(stripeRequest(), scheme, { now })).resolves.toBeDefined();
    await expectCode(verifyWebhook(stripeRequest(), scheme, { now, toleranceSeconds: 5 }), "timestamp_too_old");
    await expectCode(verifyWebhook(stripeRequest(), scheme, { now: (T - 6) * 1000, toleranceSeconds: 5 }), "timestamp_too_new");
    await expect(verifyWebhook(stripeRequest(), scheme, { now: (T + 5) * 1000, toleranceSeconds: 5 })).resolves.toBeDefined();
  });

  it("treats a tolerance of 0 as 'exactly now', not as 'disabled'", async () => {
    const exact = stripe({ secret: SECRET, toleranceSeconds: 0, crypto });
    await expect(verifyWebhook(stripeRequest(), exact, { now: T * 1000 })).resolves.toBeDefined();
    await expectCode(verifyWebhook(stripeRequest(), exact, { now: T * 1000 + 1 }), "timestamp_too_old");
    await expectCode(verifyWebhook(stripeRequest(), exact, { now: T * 1000 - 1 }), "timestamp_too_new");
  });

  it("disables the window with Infinity, on the scheme or per call", async () => {
    const years = 86_400_000 * 365 * 20;
    const unbounded = stripe({ secret: SECRET, toleranceSeconds: Number.POSITIVE_INFINITY, crypto });
    await expect(verifyWebhook(stripeRequest(), unbounded, { now: T * 1000 + years })).resolves.toBeDefined();
    await expect(verifyWebhook(stripeRequest(), unbounded, { now: 0 })).resolves.toBeDefined();
    await expect(verifyWebhook(stripeRequest(), scheme, { now: T * 1000 + years, toleranceSeconds: Number.POSITIVE_INFINITY })).resolves.toBeDefined();
    // Infinity lifts the window only: a bad signature is still refused.
    const forged = { body: BODY, headers: { "stripe-signature": `t=${T},v1=${"a".repeat(64)}` } };
    await expectCode(verifyWebhook(forged, unbounded, { now: T * 1000 + years }), "signature_mismatch");
  });

  it("applies the same rules to a timestamp in its own header (Standard Webhooks)", async () => {
    const sw = standardWebhooks({ secret: SW_SECRET, toleranceSeconds: 60, crypto });
    await expect(verifyWebhook(swRequest(), sw, { now: new Date((T + 60) * 1000) })).resolves.toMatchObject({ id: "msg_opt" });
    await expectCode(verifyWebhook(swRequest(), sw, { now: (T + 61) * 1000 }), "timestamp_too_old");
    await expect(verifyWebhook(swRequest(), sw, { now: (T + 61) * 1000, toleranceSeconds: 61 })).resolves.toBeDefined();
    await expect(verifyWebhook(swRequest(), sw, { now: 0, toleranceSeconds: Number.POSITIVE_INFINITY })).resolves.toBeDefined();
  });

  it("ignores options.toleranceSeconds for a scheme that signs no timestamp", async () => {
    const { createHmac } = await import("node:crypto");
    const gh = github({ secret: "gh", crypto });
    const headers = { "x-hub-signature-256": `sha256=${createHmac("sha256", "gh").update(BODY).digest("hex")}` };
    await expect(verifyWebhook({ body: BODY, headers }, gh, { now: 0, toleranceSeconds: 0 })).resolves.toMatchObject({ timestamp: undefined });
  });
});
