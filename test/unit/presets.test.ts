// The preset schemes' own behaviour: where ids and types come from, which headers
// signWebhook writes, what a rejection looks like, and what comes back as rawBody.
import { createHmac } from "node:crypto";
import { getHmac } from "@shopify/shopify-api/test-helpers";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { WebhookError, WebhookVerificationError, isWebhookError, isWebhookVerificationError, verificationErrorStatus } from "../../src/errors";
import { github } from "../../src/schemes/github";
import { shopify } from "../../src/schemes/shopify";
import { slack } from "../../src/schemes/slack";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { CRYPTO_IMPLS, expectCode } from "../helpers/crypto-impls";

const GH_SECRET = "gh-secret";
const SHOP_SECRET = "shpss_unit";
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const T = 1_700_000_000;

const ghSig = (body: string) => `sha256=${createHmac("sha256", GH_SECRET).update(body).digest("hex")}`;

describe.each(CRYPTO_IMPLS)("github() (crypto: %s)", (crypto) => {
  const scheme = github({ secret: GH_SECRET, crypto });
  const body = JSON.stringify({ action: "opened", number: 1 });

  it("takes the id from X-GitHub-Delivery and the type from X-GitHub-Event, in any header shape", async () => {
    const record = { "X-Hub-Signature-256": ghSig(body), "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d7a1-42" };
    const lower = Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
    for (const headers of [record, lower, new Headers(record)]) {
      const event = await verifyWebhook({ body, headers }, scheme);
      expect(event).toMatchObject({ id: "d7a1-42", type: "pull_request", timestamp: undefined, scheme: "github", secretIndex: 0 });
      expect(event.payload).toEqual({ action: "opened", number: 1 });
    }
  });

  it("reports no id or type when GitHub's headers are absent", async () => {
    const event = await verifyWebhook({ body, headers: { "x-hub-signature-256": ghSig(body) } }, scheme);
    expect(event.id).toBeUndefined();
    expect(event.type).toBeUndefined();
  });

  it("signs the delivery id and event name into their headers", async () => {
    const headers = await signWebhook(body, scheme, { id: "delivery-1", type: "issues" });
    expect(headers).toEqual({ "content-type": "application/json", "x-hub-signature-256": ghSig(body), "x-github-delivery": "delivery-1", "x-github-event": "issues" });
    const noType = await signWebhook(body, scheme);
    expect(noType["x-github-event"]).toBeUndefined();
    expect(noType["x-github-delivery"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe.each(CRYPTO_IMPLS)("shopify() (crypto: %s)", (crypto) => {
  const scheme = shopify({ secret: SHOP_SECRET, crypto });
  const body = JSON.stringify({ id: 1, total_price: "9.99" });
  const hmac = getHmac(body, SHOP_SECRET);

  it("reads the classic X-Shopify-* headers", async () => {
    const headers = { "X-Shopify-Hmac-Sha256": hmac, "X-Shopify-Topic": "orders/paid", "X-Shopify-Webhook-Id": "wh-classic" };
    await expect(verifyWebhook({ body, headers }, scheme)).resolves.toMatchObject({ id: "wh-classic", type: "orders/paid", timestamp: undefined, scheme: "shopify" });
  });

  it("reads the newer unprefixed shopify-* headers", async () => {
    const headers = new Headers({ "shopify-hmac-sha256": hmac, "shopify-topic": "orders/paid", "shopify-webhook-id": "wh-events", "shopify-event-id": "e-1" });
    await expect(verifyWebhook({ body, headers }, scheme)).resolves.toMatchObject({ id: "wh-events", type: "orders/paid" });
  });

  it("prefers the classic headers when both styles are present", async () => {
    const headers = {
      "x-shopify-hmac-sha256": hmac,
      "x-shopify-topic": "orders/paid",
      "x-shopify-webhook-id": "wh-classic",
      "shopify-hmac-sha256": "AAAA",
      "shopify-topic": "orders/other",
      "shopify-webhook-id": "wh-events",
    };
    await expect(verifyWebhook({ body, headers }, scheme)).resolves.toMatchObject({ id: "wh-classic", type: "orders/paid" });
  });

  it("signs the classic headers, with the webhook id and topic", async () => {
    const headers = await signWebhook(body, scheme, { id: "wh-1", type: "orders/create" });
    expect(headers).toEqual({ "content-type": "application/json", "x-shopify-hmac-sha256": hmac, "x-shopify-webhook-id": "wh-1", "x-shopify-topic": "orders/create" });
  });
});

describe("signWebhook header sets", () => {
  it("stripe: only the signature; the id and type live in the body", async () => {
    const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });
    const headers = await signWebhook(body, stripe({ secret: "whsec_x" }), { id: "ignored", type: "ignored", timestamp: T * 1000 });
    expect(Object.keys(headers).sort()).toEqual(["content-type", "stripe-signature"]);
    expect(headers["stripe-signature"]).toBe(new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload: body, secret: "whsec_x", timestamp: T }));
  });

  it("standardWebhooks: webhook-id, webhook-timestamp and webhook-signature", async () => {
    const body = JSON.stringify({ type: "user.created" });
    const headers = await signWebhook(body, standardWebhooks({ secret: SW_SECRET }), { id: "msg_1", timestamp: new Date(T * 1000) });
    expect(headers).toEqual({
      "content-type": "application/json",
      "webhook-id": "msg_1",
      "webhook-timestamp": String(T),
      "webhook-signature": new Webhook(SW_SECRET).sign("msg_1", new Date(T * 1000), body),
    });
  });

  it("slack: signature and timestamp, and the content type given", async () => {
    const headers = await signWebhook("a=1", slack({ secret: "s" }), { timestamp: T * 1000 + 999, contentType: "application/x-www-form-urlencoded" });
    expect(headers).toEqual({
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(T),
      "x-slack-signature": `v0=${createHmac("sha256", "s").update(`v0:${T}:a=1`).digest("hex")}`,
    });
  });

  it("signs with the first secret of a rotation list", async () => {
    const headers = await signWebhook("{}", github({ secret: ["new", "old"] }));
    expect(headers["x-hub-signature-256"]).toBe(`sha256=${createHmac("sha256", "new").update("{}").digest("hex")}`);
  });

  it("signs a string, Buffer, Uint8Array and ArrayBuffer body to the same signature", async () => {
    const scheme = github({ secret: GH_SECRET });
    const text = JSON.stringify({ note: "ünïcødé ✓" });
    const bytes = Buffer.from(text);
    const sigs = new Set<string | undefined>();
    for (const body of [text, bytes, new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)]) {
      sigs.add((await signWebhook(body, scheme, { id: "x" }))["x-hub-signature-256"]);
    }
    expect([...sigs]).toEqual([ghSig(text)]);
  });

  it("refuses an invalid options.timestamp with a TypeError naming it", async () => {
    for (const timestamp of [Number.NaN, Number.POSITIVE_INFINITY, new Date("nope"), "2024-01-01"]) {
      await expect(signWebhook("{}", stripe({ secret: "whsec_x" }), { timestamp: timestamp as number })).rejects.toThrow(
        new TypeError("hookguard: signWebhook(): `options.timestamp` must be a Date or epoch milliseconds"),
      );
    }
  });

  it("refuses a body that is not raw with a TypeError", async () => {
    await expect(signWebhook({ a: 1 } as never, github({ secret: "s" }))).rejects.toThrow(TypeError);
    await expect(signWebhook(undefined as never, github({ secret: "s" }))).rejects.toThrow(/needs the body as a string, Uint8Array or ArrayBuffer/);
  });
});

describe.each(CRYPTO_IMPLS)("rejections (crypto: %s)", (crypto) => {
  const scheme = github({ secret: GH_SECRET, crypto });
  const body = JSON.stringify({ ok: true });

  it("are WebhookVerificationErrors that isWebhookError recognises, with the code's status", async () => {
    const cases = [
      { request: { body, headers: {} }, code: "missing_header" },
      { request: { body, headers: { "x-hub-signature-256": "md5=abc" } }, code: "malformed_header" },
      { request: { body, headers: { "x-hub-signature-256": ghSig(`${body}x`) } }, code: "signature_mismatch" },
      { request: { body: "{", headers: { "x-hub-signature-256": ghSig("{") } }, code: "invalid_json" },
      { request: { body: JSON.parse(body) as string, headers: { "x-hub-signature-256": ghSig(body) } }, code: "body_not_raw" },
    ] as const;
    for (const { request, code } of cases) {
      const error = await expectCode(verifyWebhook(request, scheme), code);
      expect(error).toBeInstanceOf(WebhookVerificationError);
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toBeInstanceOf(Error);
      expect(isWebhookError(error)).toBe(true);
      expect(isWebhookVerificationError(error)).toBe(true);
      expect(error.name).toBe("WebhookVerificationError");
      expect(error.status).toBe(verificationErrorStatus[code]);
    }
  });

  it("say why a body is not raw", async () => {
    const headers = { "x-hub-signature-256": ghSig(body) };
    const message = async (b: unknown) => (await expectCode(verifyWebhook({ body: b as string, headers }, scheme), "body_not_raw")).message;
    expect(await message({ ok: true })).toContain("got an already-parsed object");
    expect(await message([1])).toContain("got an array");
    expect(await message(42)).toContain("got a number");
    expect(await message(undefined)).toContain("there is no body");
    expect(await message(null)).toContain("there is no body");
    await expectCode(verifyWebhook(undefined as never, scheme), "body_not_raw");
  });
});

describe.each(CRYPTO_IMPLS)("rawBody and body views (crypto: %s)", (crypto) => {
  const scheme = github({ secret: GH_SECRET, crypto });
  const text = JSON.stringify({ note: "ünïcødé ✓" });
  const headers = { "x-hub-signature-256": ghSig(text) };

  it("gives back a string or Uint8Array body as passed in", async () => {
    expect((await verifyWebhook({ body: text, headers }, scheme)).rawBody).toBe(text);
    const buffer = Buffer.from(text);
    expect((await verifyWebhook({ body: buffer, headers }, scheme)).rawBody).toBe(buffer);
  });

  it("views an ArrayBuffer as a Uint8Array over the same bytes", async () => {
    const bytes = Buffer.from(text);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const raw = (await verifyWebhook({ body: ab, headers }, scheme)).rawBody as Uint8Array;
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(raw.buffer).toBe(ab);
    expect(Buffer.from(raw).toString()).toBe(text);
  });

  it("verifies only the viewed bytes of a Uint8Array or DataView inside a larger buffer", async () => {
    const padded = Buffer.concat([Buffer.from("JUNK"), Buffer.from(text), Buffer.from("TAIL")]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 4, Buffer.byteLength(text));
    await expect(verifyWebhook({ body: view, headers }, scheme)).resolves.toMatchObject({ payload: { note: "ünïcødé ✓" } });
    const dataView = new DataView(padded.buffer, padded.byteOffset + 4, Buffer.byteLength(text));
    await expect(verifyWebhook({ body: dataView as unknown as Uint8Array, headers }, scheme)).resolves.toMatchObject({ payload: { note: "ünïcødé ✓" } });
  });
});

describe.each(CRYPTO_IMPLS)("stripe() body parsing (crypto: %s)", (crypto) => {
  const secret = "whsec_parse_as_json";
  const scheme = stripe({ secret, crypto });
  const body = JSON.stringify({ id: "evt_form", type: "invoice.paid", object: "event" });

  it("parses the body as JSON whatever the Content-Type says, as the SDK's constructEvent does", async () => {
    const header = new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload: body, secret });
    for (const contentType of ["application/x-www-form-urlencoded", "text/plain", undefined]) {
      const headers: Record<string, string> = { "stripe-signature": header, ...(contentType ? { "content-type": contentType } : {}) };
      const event = await verifyWebhook({ body, headers }, scheme);
      expect(event.payload).toEqual(JSON.parse(body));
      expect([event.id, event.type]).toEqual(["evt_form", "invoice.paid"]);
    }
  });

  it("answers invalid_json for a signed body that is not JSON, even one sent as a form", async () => {
    const form = "id=evt_1&type=invoice.paid";
    const header = new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload: form, secret });
    await expectCode(verifyWebhook({ body: form, headers: { "stripe-signature": header, "content-type": "application/x-www-form-urlencoded" } }, scheme), "invalid_json");
  });
});
