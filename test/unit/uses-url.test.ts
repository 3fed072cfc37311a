// `usesUrl`: the adapters build a request's public URL only for a scheme that may read it.
import { describe, expect, it } from "vitest";
import { handleWebhooks, verifyWebhook } from "../../src/adapters/fetch";
import { createWebhookReceiver } from "../../src/receiver";
import { github } from "../../src/schemes/github";
import { hmacScheme } from "../../src/schemes/hmac";
import { shopify } from "../../src/schemes/shopify";
import { slack } from "../../src/schemes/slack";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import { twilio } from "../../src/schemes/twilio";
import type { SchemeRequest, WebhookScheme } from "../../src/types";

const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** A scheme that accepts everything and records the URL it was shown. */
function recording(usesUrl: boolean | undefined): { scheme: WebhookScheme<unknown>; seen: (string | undefined)[] } {
  const seen: (string | undefined)[] = [];
  const scheme: WebhookScheme<unknown> = {
    name: "recording",
    toleranceSeconds: undefined,
    ...(usesUrl === undefined ? {} : { usesUrl }),
    verify(req: SchemeRequest) {
      seen.push(req.url);
      return { ok: true, webhook: { id: "evt_1", type: "t", timestamp: undefined, payload: {}, rawBody: req.body, scheme: "recording", secretIndex: 0 } };
    },
    sign: async () => ({}),
  };
  return { scheme, seen };
}

const request = () => new Request("https://hooks.example.com/webhooks/x?a=1", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });

describe("usesUrl", () => {
  it("is false for the presets that sign no URL, true for a template with {url}, and not false for Twilio", () => {
    for (const scheme of [stripe({ secret: "whsec_x" }), github({ secret: "s" }), standardWebhooks({ secret: SW_SECRET }), slack({ secret: "s" }), shopify({ secret: "s" })]) {
      expect(scheme.usesUrl, scheme.name).toBe(false);
    }
    expect(hmacScheme({ name: "u", secret: "s", signature: { header: "x-sig" }, signedContent: "{url}{body}" }).usesUrl).toBe(true);
    expect(twilio({ secret: "t" }).usesUrl).not.toBe(false);
  });

  it("lets verifyWebhook skip the URL when the scheme says it reads none, and pass it otherwise", async () => {
    const without = recording(false);
    const withUrl = recording(undefined);
    expect((await verifyWebhook(without.scheme, () => new Response("ok"))(request())).status).toBe(200);
    expect((await verifyWebhook(withUrl.scheme, () => new Response("ok"))(request())).status).toBe(200);
    expect(without.seen).toEqual([undefined]);
    expect(withUrl.seen).toEqual(["https://hooks.example.com/webhooks/x?a=1"]);
  });

  it("reads the receiver's scheme in handleWebhooks", async () => {
    for (const [usesUrl, expected] of [
      [false, undefined],
      [true, "https://hooks.example.com/webhooks/x?a=1"],
    ] as const) {
      const { scheme, seen } = recording(usesUrl);
      const receiver = createWebhookReceiver({ scheme });
      receiver.on("t", () => {});
      expect((await handleWebhooks(receiver)(request())).status).toBe(200);
      expect(seen).toEqual([expected]);
    }
  });
});
