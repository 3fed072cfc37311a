// Caller mistakes throw when a scheme is created, with a message that names the option and
// never echoes a secret; every factory is exported from the package root; signing helpers
// that need key material say so.
import { describe, expect, it } from "vitest";
import * as hookguard from "../../src/index";
import { ed25519Pair, p256Pair } from "../fixtures/providers/support";

const FACTORIES = [
  "paddle",
  "linear",
  "twitch",
  "zoom",
  "workos",
  "calendly",
  "typeform",
  "intercom",
  "coinbaseCommerce",
  "bitbucket",
  "lemonSqueezy",
  "sentry",
  "vercel",
  "githubLegacy",
  "clerk",
  "resend",
  "discord",
  "sendgrid",
  "standardWebhooksAsymmetric",
  "twilio",
  "square",
  "hubspot",
  "hubspotLegacy",
  "mailgun",
  "gitlab",
  "paypal",
] as const;

const SECRET_FACTORIES = FACTORIES.filter((f) => !["discord", "sendgrid", "standardWebhooksAsymmetric", "paypal"].includes(f));

describe("provider factories", () => {
  it("are all exported from the package root, with distinct scheme names where the providers differ", () => {
    for (const name of FACTORIES) expect(typeof hookguard[name]).toBe("function");
    expect(typeof hookguard.signMailgunBody).toBe("function");
    const names = SECRET_FACTORIES.map((f) => (hookguard[f] as (o: { secret: string; url: string }) => { name: string })({ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", url: "https://x.example/h" }).name);
    expect(names).toContain("coinbase-commerce");
    expect(names).toContain("lemon-squeezy");
    // githubLegacy shares github's namespace on purpose, hubspotLegacy hubspot's.
    expect(names.filter((n) => n === "github")).toHaveLength(1);
    expect(names.filter((n) => n === "hubspot")).toHaveLength(2);
  });

  it.each(SECRET_FACTORIES)("%s() names `secret` when it is missing, empty or not a string", (name) => {
    const factory = hookguard[name] as (o: unknown) => unknown;
    expect(() => factory(undefined)).toThrow(/secret/);
    expect(() => factory({})).toThrow(/`secret`/);
    expect(() => factory({ secret: "" })).toThrow(/secret/);
    expect(() => factory({ secret: [] })).toThrow(/secret/);
    expect(() => factory({ secret: ["ok", 42] })).toThrow(/secret\[1\]/);
  });

  it("rejects a negative or NaN tolerance, naming it", () => {
    for (const make of [
      () => hookguard.paddle({ secret: "s", toleranceSeconds: -1 }),
      () => hookguard.zoom({ secret: "s", toleranceSeconds: Number.NaN }),
      () => hookguard.discord({ publicKey: ed25519Pair().publicHex, toleranceSeconds: -5 }),
      () => hookguard.sendgrid({ publicKey: p256Pair().spkiBase64, toleranceSeconds: -5 }),
      () => hookguard.mailgun({ secret: "s", toleranceSeconds: -5 }),
      () => hookguard.hubspot({ secret: "s", toleranceSeconds: -5 }),
    ]) {
      expect(make).toThrow(/toleranceSeconds/);
    }
  });

  it("checks public keys in each provider's format without echoing them", () => {
    const ed = ed25519Pair();
    const p = p256Pair();
    expect(() => hookguard.discord({ publicKey: "abc" })).toThrow(/publicKey.*64 hex/);
    expect(() => hookguard.discord({ publicKey: [ed.publicHex, "zz"] })).toThrow(/publicKey\[1\]/);
    expect(() => hookguard.discord({ publicKey: ed.publicHex, privateKey: "nope" })).toThrow(/privateKey/);
    expect(() => hookguard.standardWebhooksAsymmetric({ publicKey: "whpk_AAAA" })).toThrow(/whpk_/);
    expect(() => hookguard.standardWebhooksAsymmetric({ publicKey: ed.whpk, privateKey: "whsk_AAAA" })).toThrow(/whsk_/);
    // An Ed25519 key where SendGrid wants P-256, a point off the curve, a truncated key.
    const offCurve = Buffer.from(p.spkiBase64, "base64");
    offCurve[offCurve.length - 1]! ^= 1;
    for (const bad of [ed.whpk.slice(5), offCurve.toString("base64"), p.spkiBase64.slice(0, 40)]) {
      let message = "";
      try {
        hookguard.sendgrid({ publicKey: bad });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/publicKey.*verification key/);
      expect(message).not.toContain(bad);
    }
    expect(() => hookguard.sendgrid({ publicKey: p.spkiPem })).not.toThrow();
    expect(() => hookguard.sendgrid({ publicKey: p.spkiBase64, privateKey: "!!" })).toThrow(/privateKey/);
  });

  it("checks url and baseUrl of the URL-signed schemes", () => {
    expect(() => hookguard.twilio({ secret: "s", baseUrl: "api.example.com" })).toThrow(/baseUrl.*absolute URL/);
    expect(() => hookguard.square({ secret: "s", url: "/webhooks" })).toThrow(/`url`.*absolute URL/);
    expect(() => hookguard.hubspot({ secret: "s", url: 42 as unknown as string })).toThrow(/`url`/);
    expect(() => hookguard.hubspotLegacy({ secret: "s", versions: ["v3" as "v1"] })).toThrow(/versions/);
  });

  it("paypal needs a webhook id and a fetch, and only signs with an allowlisted certUrl", () => {
    const fetch = async () => ({ ok: true, status: 200, text: async () => "" });
    expect(() => hookguard.paypal({ webhookId: "", fetch })).toThrow(/webhookId/);
    expect(() => hookguard.paypal({ webhookId: "WH", fetch: undefined as unknown as typeof fetch })).toThrow(/fetch/);
    expect(() => hookguard.paypal({ webhookId: "WH", fetch, certUrl: "https://evil.example/c" })).toThrow(/certUrl/);
    expect(() => hookguard.paypal({ webhookId: "WH", fetch, certificateTtlMs: -1 })).toThrow(/certificateTtlMs/);
  });

  it("signing helpers that need a private key or a URL say so", async () => {
    const ed = ed25519Pair();
    const p = p256Pair();
    await expect(hookguard.signWebhook("{}", hookguard.discord({ publicKey: ed.publicHex }))).rejects.toThrow(/privateKey/);
    await expect(hookguard.signWebhook("{}", hookguard.sendgrid({ publicKey: p.spkiBase64 }))).rejects.toThrow(/privateKey/);
    await expect(hookguard.signWebhook("{}", hookguard.standardWebhooksAsymmetric({ publicKey: ed.whpk }))).rejects.toThrow(/privateKey/);
    await expect(hookguard.signWebhook("{}", hookguard.twilio({ secret: "s" }))).rejects.toThrow(/url/);
    await expect(hookguard.signWebhook("{}", hookguard.twilio({ secret: "s" }), { url: "https://x.example/h" })).rejects.toThrow(/bodySHA256/);
    await expect(hookguard.signWebhook("{}", hookguard.twilio({ secret: "s" }), { url: "https://x.example/h?bodySHA256=00" })).rejects.toThrow(/bodySHA256/);
    await expect(hookguard.signWebhook("{}", hookguard.square({ secret: "s" }))).rejects.toThrow(/notification URL/);
    await expect(hookguard.signWebhook("{}", hookguard.hubspot({ secret: "s" }))).rejects.toThrow(/URL/);
    await expect(hookguard.signWebhook("{}", hookguard.mailgun({ secret: "s" }))).rejects.toThrow(/signMailgunBody/);
  });
});
