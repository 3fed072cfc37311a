// URL-signed providers: the signature covers the request's public URL. twilio's
// getExpectedTwilioSignature / validateRequest / validateRequestWithBody, square's
// WebhooksHelper.verifySignature and @hubspot/api-client's Signature are the oracles.
import { Signature } from "@hubspot/api-client";
import fc from "fast-check";
import { WebhooksHelper } from "square";
import twilioSdk from "twilio";
import { describe, expect, it } from "vitest";
import { hubspot, hubspotLegacy } from "../../src/schemes/hubspot";
import { square } from "../../src/schemes/square";
import { twilio } from "../../src/schemes/twilio";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, expectFailure, flip, hmac, outcomeOf, sha256Hex, tamperChar } from "../fixtures/providers/support";

const RUNS = { numRuns: INTEROP_RUNS };

// Signature.getSignature's options type asks for the `signature` it does not read.
function hubspotSign(method: string, version: string, options: { clientSecret: string; requestBody: string; url?: string; timestamp?: number }): string {
  return Signature.getSignature(method, version, { ...options, signature: "" });
}
const FORM = "application/x-www-form-urlencoded";

// Paths and queries with characters proxies and URL parsers like to rewrite.
const path = fc.constantFrom("/twilio/sms", "/hooks/voice?foo=1&bar=two", "/a/b?x=%2B1&y=hello+world", "/status?Ω=1", "/cb?q='quoted'", "/");
const host = fc.constantFrom("https://api.example.com", "https://api.example.com:8443", "http://localhost:3000", "https://EXAMPLE.com");

// ---------------------------------------------------------------------------------------
// Twilio

/** Form parameters as pairs (names may repeat), with what Twilio sends: +numbers, spaces, Unicode, & and =. */
const formPairs = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom("From", "To", "Body", "MessageSid", "AccountSid", "MediaUrl0", "b", "B", "_"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 })).filter((n) => n !== "__proto__"),
    fc.oneof(fc.constantFrom("+14155551234", "hello world", "a&b=c", "ünïcødé ✓ 🚀", ""), fc.string({ unit: "grapheme", maxLength: 20 })),
  ),
  { minLength: 0, maxLength: 8 },
);

function sdkParams(pairs: readonly (readonly [string, string])[]): Record<string, string | string[]> {
  // What express.urlencoded hands the SDK: repeated names become arrays. No prototype, so
  // names such as "toString" (fast-check likes them) are plain keys.
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of pairs) {
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

describe.each(IMPLS)("twilio interop (crypto: %s)", (impl) => {
  const TOKEN = "twilio_interop_auth_token_0123456789";
  const OTHER = "twilio_interop_other_token_abcdefghij";
  const scheme = twilio({ secret: TOKEN, crypto: impl });

  it("verifies form posts the SDK signs, and signs what validateRequest accepts", async () => {
    await fc.assert(
      fc.asyncProperty(host, path, formPairs, async (origin, p, pairs) => {
        const url = origin + p;
        const body = new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v])).toString();
        const params = sdkParams(pairs);
        const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, params);
        const headers = { "X-Twilio-Signature": signature, "Content-Type": FORM, "I-Twilio-Idempotency-Token": "idem-1" };
        const verified = await verifyWebhook({ body, headers, url }, scheme);
        expect(verified).toMatchObject({ id: "idem-1", type: undefined, scheme: "twilio" });
        expect({ ...(verified.payload as object) }).toEqual(params);
        const ours = await signWebhook(body, scheme, { url, contentType: FORM });
        expect(ours["x-twilio-signature"]).toBe(signature);
        expect(twilioSdk.validateRequest(TOKEN, ours["x-twilio-signature"]!, url, params)).toBe(true);
      }),
      RUNS,
    );
  });

  it("verifies JSON posts through bodySHA256, checks the body hash, and agrees with validateRequestWithBody", async () => {
    await fc.assert(
      fc.asyncProperty(host, eventObject, fc.nat(), async (origin, e, index) => {
        const body = JSON.stringify(e);
        const url = `${origin}/events?bodySHA256=${twilioSdk.getExpectedBodyHash(body)}`;
        const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, {});
        const headers = { "x-twilio-signature": signature, "content-type": "application/json" };
        await expect(verifyWebhook({ body, headers, url }, scheme)).resolves.toMatchObject({ payload: e });
        const ours = await signWebhook(body, scheme, { url });
        expect(twilioSdk.validateRequestWithBody(TOKEN, ours["x-twilio-signature"]!, url, body)).toBe(true);
        // The URL is signed, the body only through its hash: change either and both reject.
        const tampered = flip(body, index);
        await expectFailure({ ...scheme }, { body: tampered, headers, url }, "signature_mismatch");
        expect(twilioSdk.validateRequestWithBody(TOKEN, signature, url, tampered.toString())).toBe(false);
        const otherUrl = `${origin}/events?bodySHA256=${sha256Hex(tampered)}`;
        await expectFailure(scheme, { body: tampered, headers, url: otherUrl }, "signature_mismatch");
      }),
      RUNS,
    );
  });

  it("tries the URL without and with the default port, like the SDK", async () => {
    const body = "From=%2B14155551234&Body=hi";
    const params = { From: "+14155551234", Body: "hi" };
    for (const [signed, received] of [
      ["https://api.example.com:443/sms", "https://api.example.com/sms"],
      ["https://api.example.com/sms", "https://api.example.com:443/sms"],
      ["http://api.example.com:80/sms?x=1", "http://api.example.com/sms?x=1"],
    ]) {
      const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, signed!, params);
      expect(twilioSdk.validateRequest(TOKEN, signature, received!, params)).toBe(true);
      await expect(verifyWebhook({ body, headers: { "x-twilio-signature": signature, "content-type": FORM }, url: received }, scheme)).resolves.toBeDefined();
    }
    // Another port is another URL.
    const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, "https://api.example.com:8443/sms", params);
    await expectFailure(scheme, { body, headers: { "x-twilio-signature": signature, "content-type": FORM }, url: "https://api.example.com/sms" }, "signature_mismatch");
    expect(twilioSdk.validateRequest(TOKEN, signature, "https://api.example.com/sms", params)).toBe(false);
  });

  it("rejects tampered params, URLs and tokens with the exact code, and says which URL it used (never the query)", async () => {
    await fc.assert(
      fc.asyncProperty(formPairs.filter((p) => p.length > 0), fc.nat(), async (pairs, index) => {
        const url = "https://api.example.com/sms?token=query-secret";
        const body = new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v])).toString();
        const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, sdkParams(pairs));
        const headers = { "x-twilio-signature": signature, "content-type": FORM };
        const changed = new URLSearchParams(pairs.map(([k, v], i): [string, string] => [k, i === index % pairs.length ? `${v}x` : v])).toString();
        await expectFailure(scheme, { body: changed, headers, url }, "signature_mismatch");
        await expectFailure(scheme, { body, headers: { ...headers, "x-twilio-signature": tamperChar(signature, index, "base64") }, url }, "signature_mismatch");
        await expectFailure(scheme, { body, headers: { ...headers, "x-twilio-signature": twilioSdk.getExpectedTwilioSignature(OTHER, url, sdkParams(pairs)) }, url }, "signature_mismatch");
        const o = await outcomeOf(scheme, { body, headers, url: "http://internal:8080/sms?token=query-secret" });
        expect(o).toMatchObject({ ok: false, code: "signature_mismatch" });
        expect((o as { detail?: string }).detail).toContain("http://internal:8080/sms");
        expect((o as { detail?: string }).detail).not.toContain("query-secret");
        expect((o as { detail?: string }).detail).not.toContain(TOKEN);
      }),
      RUNS,
    );
  });

  it("needs the public URL: request.url, baseUrl or url; a missing one is a clear failure", async () => {
    const body = "Body=hi";
    const url = "https://api.example.com/sms?x=1";
    const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, { Body: "hi" });
    const headers = { "x-twilio-signature": signature, "content-type": FORM };
    const missing = await outcomeOf(scheme, { body, headers });
    expect(missing).toMatchObject({ ok: false, code: "url_unknown" });
    expect((missing as { detail: string }).detail).toMatch(/request\.url.*url or baseUrl/);
    await expectFailure(scheme, { body, headers, url: "/sms?x=1" }, "url_unknown");
    const behindProxy = twilio({ secret: TOKEN, baseUrl: "https://api.example.com", crypto: impl });
    await expect(verifyWebhook({ body, headers, url: "/sms?x=1" }, behindProxy)).resolves.toBeDefined();
    await expect(verifyWebhook({ body, headers, url: "http://10.0.0.7:3000/sms?x=1" }, behindProxy)).resolves.toBeDefined();
    await expect(verifyWebhook({ body, headers, url: "/ignored" }, twilio({ secret: TOKEN, url, crypto: impl }))).resolves.toBeDefined();
  });

  it("verifies a bodiless request (GET status callback) over its URL, with the query as the payload", async () => {
    const url = "https://api.example.com/status?CallSid=CA123&CallStatus=completed";
    const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, {});
    const verified = await verifyWebhook({ body: "", headers: { "x-twilio-signature": signature }, url, method: "GET" }, scheme);
    expect({ ...(verified.payload as object) }).toEqual({ CallSid: "CA123", CallStatus: "completed" });
    // A body that is neither form nor covered by bodySHA256 is not signed: rejected.
    await expectFailure(scheme, { body: "{}", headers: { "x-twilio-signature": signature, "content-type": "application/json" }, url }, "signature_mismatch");
  });

  it("accepts the secondary auth token while you rotate", async () => {
    const rolling = twilio({ secret: [OTHER, TOKEN], crypto: impl });
    const url = "https://api.example.com/sms";
    const signature = twilioSdk.getExpectedTwilioSignature(TOKEN, url, { Body: "hi" });
    expect(await outcomeOf(rolling, { body: "Body=hi", headers: { "x-twilio-signature": signature, "content-type": FORM }, url })).toMatchObject({ ok: true, secretIndex: 1 });
  });
});

// ---------------------------------------------------------------------------------------
// Square

describe.each(IMPLS)("square interop (crypto: %s)", (impl) => {
  const KEY = "square_interop_signature_key_0123";
  const NOTIFICATION_URL = "https://api.example.com/webhooks/square";
  const scheme = square({ secret: KEY, url: NOTIFICATION_URL, crypto: impl });
  const squareBody = eventObject.map((e) => JSON.stringify({ merchant_id: "M1", type: "payment.updated", event_id: e.id, created_at: "2024-01-01T00:00:00Z", data: e.data }));

  it("signs what WebhooksHelper.verifySignature accepts, verifies Square's formula, and both reject tampering", async () => {
    await fc.assert(
      fc.asyncProperty(squareBody, fc.nat(), async (body, index) => {
        const headers = await signWebhook(body, scheme);
        const sig = headers["x-square-hmacsha256-signature"]!;
        expect(await WebhooksHelper.verifySignature({ requestBody: body, signatureHeader: sig, signatureKey: KEY, notificationUrl: NOTIFICATION_URL })).toBe(true);
        const model = hmac("sha256", KEY, NOTIFICATION_URL + body, "base64");
        expect(sig).toBe(model);
        const verified = await verifyWebhook({ body, headers: { "X-Square-HmacSha256-Signature": model } }, scheme);
        expect(verified).toMatchObject({ id: JSON.parse(body).event_id, type: "payment.updated", scheme: "square" });
        const bad = tamperChar(model, index, "base64");
        await expectFailure(scheme, { body, headers: { "x-square-hmacsha256-signature": bad } }, "signature_mismatch");
        expect(await WebhooksHelper.verifySignature({ requestBody: body, signatureHeader: bad, signatureKey: KEY, notificationUrl: NOTIFICATION_URL })).toBe(false);
        await expectFailure(scheme, { body: flip(body, index), headers }, "signature_mismatch");
        // Another notification URL is another signature.
        await expectFailure(square({ secret: KEY, url: `${NOTIFICATION_URL}/`, crypto: impl }), { body, headers }, "signature_mismatch");
        expect(await WebhooksHelper.verifySignature({ requestBody: body, signatureHeader: sig, signatureKey: KEY, notificationUrl: `${NOTIFICATION_URL}/` })).toBe(false);
      }),
      RUNS,
    );
  });

  it("uses request.url when no url is configured; the hex form of the HMAC is not accepted (as in the SDK)", async () => {
    const byRequest = square({ secret: KEY, crypto: impl });
    const body = JSON.stringify({ event_id: "e1", type: "payment.created" });
    const sig = hmac("sha256", KEY, NOTIFICATION_URL + body, "base64");
    await expect(verifyWebhook({ body, headers: { "x-square-hmacsha256-signature": sig }, url: NOTIFICATION_URL }, byRequest)).resolves.toMatchObject({ id: "e1" });
    await expectFailure(byRequest, { body, headers: { "x-square-hmacsha256-signature": sig } }, "url_unknown");
    const hex = hmac("sha256", KEY, NOTIFICATION_URL + body, "hex");
    await expectFailure(scheme, { body, headers: { "x-square-hmacsha256-signature": hex } }, "malformed_header");
    expect(await WebhooksHelper.verifySignature({ requestBody: body, signatureHeader: hex, signatureKey: KEY, notificationUrl: NOTIFICATION_URL })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------
// HubSpot

describe.each(IMPLS)("hubspot interop (crypto: %s)", (impl) => {
  const SECRET = "hubspot-interop-client-secret-0123";
  const scheme = hubspot({ secret: SECRET, crypto: impl });
  const hsBody = fc.array(eventObject, { minLength: 1, maxLength: 3 }).map((events) => JSON.stringify(events.map((e, i) => ({ eventId: i + 1, subscriptionType: "contact.creation", objectId: e.id, note: e.data.text }))));
  const method = fc.constantFrom("POST", "GET", "PUT");

  it("v3: verifies what Signature.getSignature signs and signs what Signature.isValid accepts", async () => {
    await fc.assert(
      fc.asyncProperty(host, path, hsBody, method, async (origin, p, body, m) => {
        const url = origin + p;
        const timestamp = Date.now();
        const signature = hubspotSign(m, "v3", { clientSecret: SECRET, requestBody: body, url, timestamp });
        const headers = { "X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": String(timestamp) };
        const verified = await verifyWebhook({ body, headers, url, method: m }, scheme, { now: timestamp });
        expect(verified).toMatchObject({ id: undefined, type: undefined, scheme: "hubspot", payload: JSON.parse(body) });
        expect(verified.timestamp?.getTime()).toBe(timestamp);
        const ours = await signWebhook(body, scheme, { url, method: m, timestamp });
        expect(Signature.isValid({ signatureVersion: "v3", signature: ours["x-hubspot-signature-v3"]!, clientSecret: SECRET, requestBody: body, url, method: m, timestamp })).toBe(true);
        // Method, URI, body and timestamp are all covered.
        const other = m === "POST" ? "PUT" : "POST";
        await expectFailure(scheme, { body, headers, url, method: other }, "signature_mismatch", timestamp);
        await expectFailure(scheme, { body, headers, url: `${url}#x`, method: m }, "signature_mismatch", timestamp);
        await expectFailure(scheme, { body, headers: { ...headers, "X-HubSpot-Request-Timestamp": String(timestamp + 1) }, url, method: m }, "signature_mismatch", timestamp);
        await expectFailure(scheme, { body: flip(body, timestamp), headers, url, method: m }, "signature_mismatch", timestamp);
      }),
      RUNS,
    );
  });

  it("v3: decodes the characters HubSpot's docs list before verifying", async () => {
    const body = "[]";
    const timestamp = Date.now();
    const decoded = "https://api.example.com/hook?email=a@b.c&list=(1,2);x=*!$'";
    const encoded = "https://api.example.com/hook?email=a%40b.c&list=%281%2C2%29%3Bx=%2A%21%24%27";
    const signature = hubspotSign("POST", "v3", { clientSecret: SECRET, requestBody: body, url: decoded, timestamp });
    await expect(verifyWebhook({ body, headers: { "x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": String(timestamp) }, url: encoded }, scheme, { now: timestamp })).resolves.toBeDefined();
  });

  it("v3: keeps a ±300 s window (the SDK rejects only old timestamps)", async () => {
    const url = "https://api.example.com/hook";
    const body = "[]";
    const t = 1_700_000_000_000;
    const headers = { "x-hubspot-signature-v3": hubspotSign("POST", "v3", { clientSecret: SECRET, requestBody: body, url, timestamp: t }), "x-hubspot-request-timestamp": String(t) };
    expect(await outcomeOf(scheme, { body, headers, url }, t + 300_000)).toMatchObject({ ok: true });
    await expectFailure(scheme, { body, headers, url }, "timestamp_too_old", t + 301_000);
    await expectFailure(scheme, { body, headers, url }, "timestamp_too_new", t - 301_000);
    await expectFailure(scheme, { body, headers }, "url_unknown", t);
  });

  it("legacy v1/v2: plain SHA-256 of secret + …, agreeing with Signature both ways", async () => {
    const legacy = hubspotLegacy({ secret: SECRET, crypto: impl });
    const v1Only = hubspotLegacy({ secret: SECRET, versions: ["v1"], crypto: impl });
    await fc.assert(
      fc.asyncProperty(host, path, hsBody, method, fc.nat(), async (origin, p, body, m, index) => {
        const url = origin + p;
        const v1 = hubspotSign(m, "v1", { clientSecret: SECRET, requestBody: body });
        const v2 = hubspotSign(m, "v2", { clientSecret: SECRET, requestBody: body, url });
        await expect(verifyWebhook({ body, headers: { "X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1" } }, legacy)).resolves.toMatchObject({ scheme: "hubspot" });
        await expect(verifyWebhook({ body, headers: { "X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2" }, url, method: m }, legacy)).resolves.toBeDefined();
        const ours2 = await signWebhook(body, legacy, { url, method: m });
        expect(ours2["x-hubspot-signature-version"]).toBe("v2");
        expect(Signature.isValid({ signatureVersion: "v2", signature: ours2["x-hubspot-signature"]!, clientSecret: SECRET, requestBody: body, url, method: m })).toBe(true);
        const ours1 = await signWebhook(body, v1Only);
        expect(Signature.isValid({ signatureVersion: "v1", signature: ours1["x-hubspot-signature"]!, clientSecret: SECRET, requestBody: body })).toBe(true);
        // A v2 signature relabelled v1 (or the reverse) does not verify; neither does a tampered one.
        await expectFailure(legacy, { body, headers: { "x-hubspot-signature": v2, "x-hubspot-signature-version": "v1" }, url, method: m }, "signature_mismatch");
        await expectFailure(legacy, { body, headers: { "x-hubspot-signature": tamperChar(v1, index, "hex"), "x-hubspot-signature-version": "v1" } }, "signature_mismatch");
        await expectFailure(v1Only, { body, headers: { "x-hubspot-signature": v2, "x-hubspot-signature-version": "v2" }, url, method: m }, "malformed_header");
      }),
      RUNS,
    );
  });
});
