// @shopify/shopify-api is the oracle: its `webhooks.validate` (through the Node adapter)
// checks what we sign, and its test helper `getHmac` signs what we verify.
import "@shopify/shopify-api/adapters/node";
import { ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { getHmac } from "@shopify/shopify-api/test-helpers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shopify } from "../../src/schemes/shopify";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { BODY_SHAPES, CRYPTO_IMPLS, bodyAs, expectCode, jsonBody, tamperBase64, tamperBody } from "../helpers/crypto-impls";

const SECRET = "shpss_0123456789abcdef0123456789abcdef";
const OTHER = "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";
const RUNS = 100;

const api = shopifyApi({
  apiKey: "interop-key",
  apiSecretKey: SECRET,
  scopes: [],
  hostName: "example.com",
  apiVersion: ApiVersion.October25,
  isEmbeddedApp: false,
  logger: { level: LogSeverity.Error },
});

const topic = fc.constantFrom("orders/create", "products/update", "app/uninstalled", "customers/data_request");

function classicHeaders(hmac: string, t: string, id: string): Record<string, string> {
  return {
    "X-Shopify-Hmac-Sha256": hmac,
    "X-Shopify-Topic": t,
    "X-Shopify-Shop-Domain": "hookguard-test.myshopify.com",
    "X-Shopify-API-Version": "2025-10",
    "X-Shopify-Webhook-Id": id,
  };
}

function eventsHeaders(hmac: string, t: string, id: string): Record<string, string> {
  return {
    "shopify-hmac-sha256": hmac,
    "shopify-topic": t,
    "shopify-shop-domain": "hookguard-test.myshopify.com",
    "shopify-api-version": "2025-10",
    "shopify-webhook-id": id,
    "shopify-event-id": `${id}-event`,
  };
}

/** Asks Shopify's library whether a request is valid; Node-style lower-case headers. */
async function shopifyAccepts(rawBody: string, headers: Record<string, string>): Promise<boolean> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const result = await api.webhooks.validate({ rawBody, rawRequest: { headers: lower, method: "POST", url: "/webhooks" } });
  return result.valid;
}

describe.each(CRYPTO_IMPLS)("shopify interop (crypto: %s)", (impl) => {
  const scheme = shopify({ secret: SECRET, crypto: impl });

  it("verifies bodies signed by Shopify's getHmac, in both header styles", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, topic, fc.uuid(), fc.boolean(), fc.constantFrom(...BODY_SHAPES), async ({ body }, t, id, events, shape) => {
        const hmac = getHmac(body, SECRET);
        const headers = events ? eventsHeaders(hmac, t, id) : classicHeaders(hmac, t, id);
        // Shopify's own validator accepts this request: it is what Shopify sends.
        expect(await shopifyAccepts(body, headers)).toBe(true);
        const verified = await verifyWebhook({ body: bodyAs(body, shape), headers }, scheme);
        expect(verified.id).toBe(id);
        expect(verified.type).toBe(t);
        expect(verified.timestamp).toBeUndefined();
        expect(verified.secretIndex).toBe(0);
        expect(verified.scheme).toBe("shopify");
        expect(verified.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: RUNS },
    );
  });

  it("signs what shopifyApi().webhooks.validate accepts", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, topic, fc.uuid(), async ({ body }, t, id) => {
        const signed = await signWebhook(body, scheme, { id, type: t });
        expect(signed["x-shopify-hmac-sha256"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
        expect(signed["x-shopify-webhook-id"]).toBe(id);
        expect(signed["x-shopify-topic"]).toBe(t);
        const headers = { ...signed, "x-shopify-shop-domain": "hookguard-test.myshopify.com", "x-shopify-api-version": "2025-10" };
        expect(await shopifyAccepts(body, headers)).toBe(true);
        // Not vacuous: Shopify refuses the same headers over another body.
        expect(await shopifyAccepts(`${body} `, headers)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("rejects every tampered variant with the exact code, where Shopify's validator also refuses", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, fc.uuid(), fc.nat(), async ({ body }, id, index) => {
        const hmac = getHmac(body, SECRET);
        const headers = classicHeaders(hmac, "orders/create", id);
        await expect(verifyWebhook({ body, headers }, scheme)).resolves.toBeDefined();

        const changed = tamperBody(body, index);
        await expectCode(verifyWebhook({ body: changed, headers }, scheme), "signature_mismatch");

        const otherSig = { ...headers, "X-Shopify-Hmac-Sha256": tamperBase64(hmac, index) };
        await expectCode(verifyWebhook({ body, headers: otherSig }, scheme), "signature_mismatch");
        expect(await shopifyAccepts(body, otherSig)).toBe(false);

        const wrongSecret = { ...headers, "X-Shopify-Hmac-Sha256": getHmac(body, OTHER) };
        await expectCode(verifyWebhook({ body, headers: wrongSecret }, scheme), "signature_mismatch");
        expect(await shopifyAccepts(body, wrongSecret)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("rotates secrets: an old client secret still verifies and is reported", async () => {
    const rolling = shopify({ secret: [SECRET, OTHER], crypto: impl });
    const body = JSON.stringify({ id: 820982911946154500, email: "jon@example.com" });
    const verified = await verifyWebhook({ body, headers: classicHeaders(getHmac(body, OTHER), "orders/create", "w-1") }, rolling);
    expect(verified.secretIndex).toBe(1);
  });
});
