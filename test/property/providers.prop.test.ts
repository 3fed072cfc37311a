// Round trip and tamper properties for every provider scheme beyond the five core presets,
// on both crypto paths: what a scheme signs it verifies, node:crypto and Web Crypto agree
// on every input (malformed ones included), and any change to a signed part is rejected.
// Runs: NUM_RUNS of ./support (HOOKGUARD_FC_RUNS, else 10,000 in CI, else 200).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bitbucket } from "../../src/schemes/bitbucket";
import { calendly } from "../../src/schemes/calendly";
import { clerk } from "../../src/schemes/clerk";
import { coinbaseCommerce } from "../../src/schemes/coinbase-commerce";
import { discord } from "../../src/schemes/discord";
import { githubLegacy } from "../../src/schemes/github-legacy";
import { gitlab } from "../../src/schemes/gitlab";
import { hubspot, hubspotLegacy } from "../../src/schemes/hubspot";
import { intercom } from "../../src/schemes/intercom";
import { lemonSqueezy } from "../../src/schemes/lemon-squeezy";
import { linear } from "../../src/schemes/linear";
import { mailgun, signMailgunBody } from "../../src/schemes/mailgun";
import { paddle } from "../../src/schemes/paddle";
import { paypal, type PayPalFetch } from "../../src/schemes/paypal";
import { resend } from "../../src/schemes/resend";
import { sendgrid } from "../../src/schemes/sendgrid";
import { sentry } from "../../src/schemes/sentry";
import { square } from "../../src/schemes/square";
import { standardWebhooksAsymmetric } from "../../src/schemes/standard-webhooks-asymmetric";
import { twilio } from "../../src/schemes/twilio";
import { twitch } from "../../src/schemes/twitch";
import { typeform } from "../../src/schemes/typeform";
import { vercel } from "../../src/schemes/vercel";
import { workos } from "../../src/schemes/workos";
import { zoom } from "../../src/schemes/zoom";
import { signWebhook } from "../../src/sign";
import type { WebhookScheme } from "../../src/types";
import { IMPLS, ed25519Pair, flip, outcomeOf, p256Pair, sha256Hex, type AnyRequest, type Impl, type Outcome } from "../fixtures/providers/support";
import { selfSignedCertificate } from "../fixtures/providers/x509";
import { expectBe, expectEqual, params, propTimeout } from "./support";

const PARAMS = params();

const T0 = 1_700_000_000_000;
const SECRET = "prop_secret_0123456789abcdef";
const WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const URL_BASE = "https://hooks.example.com/provider/endpoint?tenant=7";
const ed = ed25519Pair();
const p256 = p256Pair();
// Valid over the whole range of signing times below.
const cert = selfSignedCertificate(T0 - 60 * 86_400_000, T0 + 10 * 365 * 86_400_000);
const CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-prop";
const paypalFetch: PayPalFetch = async (url) => ({ ok: true, status: 200, url, text: async () => cert.pem });

interface Spec {
  readonly name: string;
  make(impl: Impl): WebhookScheme<unknown>;
  /** Builds the signed request for a JSON event at `ms` (signWebhook unless the provider signs inside the body). */
  request(scheme: WebhookScheme<unknown>, event: Record<string, unknown>, ms: number, id: string): Promise<AnyRequest>;
  /** The header whose value carries the signature (undefined: it is in the body). */
  readonly signatureHeader: string | undefined;
  /** The body is covered by the signature. */
  readonly bodySigned: boolean;
  /** A signed timestamp is checked against a window. */
  readonly timestamped: boolean;
}

/** The common case: the body is the event as JSON, signed by signWebhook. */
function plain(name: string, make: (impl: Impl) => WebhookScheme<unknown>, signatureHeader: string, timestamped: boolean, extra: (e: Record<string, unknown>, ms: number) => Record<string, unknown> = (e) => e): Spec {
  return {
    name,
    make,
    signatureHeader,
    bodySigned: true,
    timestamped,
    async request(scheme, event, ms, id) {
      const body = JSON.stringify(extra(event, ms));
      return { body, headers: await signWebhook(body, scheme, { timestamp: ms, id, type: "prop.test" }) };
    },
  };
}

const SPECS: Spec[] = [
  plain("paddle", (impl) => paddle({ secret: SECRET, crypto: impl }), "paddle-signature", true),
  plain("linear", (impl) => linear({ secret: SECRET, crypto: impl }), "linear-signature", true, (e, ms) => ({ ...e, webhookTimestamp: ms })),
  plain("twitch", (impl) => twitch({ secret: SECRET, crypto: impl }), "twitch-eventsub-message-signature", true),
  plain("zoom", (impl) => zoom({ secret: SECRET, crypto: impl }), "x-zm-signature", true),
  plain("workos", (impl) => workos({ secret: SECRET, crypto: impl }), "workos-signature", true),
  plain("calendly", (impl) => calendly({ secret: SECRET, crypto: impl }), "calendly-webhook-signature", true),
  plain("typeform", (impl) => typeform({ secret: SECRET, crypto: impl }), "typeform-signature", false),
  plain("intercom", (impl) => intercom({ secret: SECRET, crypto: impl }), "x-hub-signature", false),
  plain("coinbase-commerce", (impl) => coinbaseCommerce({ secret: SECRET, crypto: impl }), "x-cc-webhook-signature", false),
  plain("bitbucket", (impl) => bitbucket({ secret: SECRET, crypto: impl }), "x-hub-signature", false),
  plain("lemon-squeezy", (impl) => lemonSqueezy({ secret: SECRET, crypto: impl }), "x-signature", false),
  plain("sentry", (impl) => sentry({ secret: SECRET, crypto: impl }), "sentry-hook-signature", false),
  plain("vercel", (impl) => vercel({ secret: SECRET, crypto: impl }), "x-vercel-signature", false),
  plain("github legacy", (impl) => githubLegacy({ secret: SECRET, crypto: impl }), "x-hub-signature-256", false),
  plain("clerk", (impl) => clerk({ secret: WHSEC, crypto: impl }), "svix-signature", true),
  plain("resend", (impl) => resend({ secret: WHSEC, crypto: impl }), "svix-signature", true),
  plain("discord", (impl) => discord({ publicKey: ed.publicHex, privateKey: ed.seedHex, crypto: impl }), "x-signature-ed25519", true),
  plain("sendgrid", (impl) => sendgrid({ publicKey: p256.spkiBase64, privateKey: p256.pkcs8Base64, crypto: impl }), "x-twilio-email-event-webhook-signature", true),
  plain("standard webhooks v1a", (impl) => standardWebhooksAsymmetric({ publicKey: ed.whpk, privateKey: ed.whsk, crypto: impl }), "webhook-signature", true),
  plain("paypal", (impl) => paypal({ webhookId: "WH-PROP", fetch: paypalFetch, privateKey: cert.pkcs8Pem, certUrl: CERT_URL, crypto: impl }), "paypal-transmission-sig", true),
  {
    name: "twilio (JSON through bodySHA256)",
    make: (impl) => twilio({ secret: SECRET, crypto: impl }),
    signatureHeader: "x-twilio-signature",
    bodySigned: true,
    timestamped: false,
    async request(scheme, event, ms, id) {
      const body = JSON.stringify(event);
      const url = `${URL_BASE}&bodySHA256=${sha256Hex(body)}`;
      return { body, url, headers: await signWebhook(body, scheme, { url, id, timestamp: ms }) };
    },
  },
  {
    name: "twilio (form)",
    make: (impl) => twilio({ secret: SECRET, crypto: impl }),
    signatureHeader: "x-twilio-signature",
    bodySigned: true,
    timestamped: false,
    async request(scheme, event, ms, id) {
      const body = new URLSearchParams(Object.entries(event).map(([k, v]): [string, string] => [k, JSON.stringify(v)])).toString();
      const contentType = "application/x-www-form-urlencoded";
      return { body, url: URL_BASE, headers: await signWebhook(body, scheme, { url: URL_BASE, id, contentType, timestamp: ms }) };
    },
  },
  {
    name: "square",
    make: (impl) => square({ secret: SECRET, url: URL_BASE, crypto: impl }),
    signatureHeader: "x-square-hmacsha256-signature",
    bodySigned: true,
    timestamped: false,
    async request(scheme, event, ms) {
      const body = JSON.stringify(event);
      return { body, headers: await signWebhook(body, scheme, { timestamp: ms }) };
    },
  },
  ...(["POST", "PUT"] as const).map(
    (method): Spec => ({
      name: `hubspot v3 (${method})`,
      make: (impl) => hubspot({ secret: SECRET, crypto: impl }),
      signatureHeader: "x-hubspot-signature-v3",
      bodySigned: true,
      timestamped: true,
      async request(scheme, event, ms) {
        const body = JSON.stringify([event]);
        return { body, url: URL_BASE, method, headers: await signWebhook(body, scheme, { url: URL_BASE, method, timestamp: ms }) };
      },
    }),
  ),
  {
    name: "hubspot legacy v2",
    make: (impl) => hubspotLegacy({ secret: SECRET, crypto: impl }),
    signatureHeader: "x-hubspot-signature",
    bodySigned: true,
    timestamped: false,
    async request(scheme, event, ms) {
      const body = JSON.stringify([event]);
      return { body, url: URL_BASE, headers: await signWebhook(body, scheme, { url: URL_BASE, timestamp: ms }) };
    },
  },
  {
    name: "mailgun",
    make: (impl) => mailgun({ secret: SECRET, crypto: impl }),
    signatureHeader: undefined,
    bodySigned: false,
    timestamped: true,
    async request(_scheme, event, ms) {
      return { body: await signMailgunBody(event, { secret: SECRET, timestamp: ms }), headers: { "content-type": "application/json" } };
    },
  },
  { ...plain("gitlab", (impl) => gitlab({ secret: SECRET, crypto: impl }), "x-gitlab-token", false), bodySigned: false },
];

const event = fc.record({
  id: fc.string({ minLength: 1, maxLength: 16 }),
  type: fc.constantFrom("a.created", "b.updated", "push"),
  text: fc.string({ unit: "grapheme", maxLength: 30 }),
  binary: fc.string({ unit: "binary", maxLength: 20 }),
  n: fc.integer(),
});
const when = fc.integer({ min: T0 - 86_400_000 * 30, max: T0 + 86_400_000 * 30 });
const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);

/** A spec's scheme on each crypto path. */
type Schemes = Readonly<Record<Impl, WebhookScheme<unknown>>>;

/** Verifies on both paths and asserts they agree; returns the (common) outcome. */
async function both(schemes: Schemes, request: AnyRequest, now: number): Promise<Outcome> {
  const [a, b] = await Promise.all(IMPLS.map((impl) => outcomeOf(schemes[impl], request, now)));
  expectEqual(b, a);
  return a!;
}

/** The separator of the specs whose signature header is a list of `key=value` entries. */
const ENTRY_SEPARATOR: Readonly<Record<string, string>> = { paddle: ";", workos: ",", calendly: "," };

/**
 * A signature header as its scheme reads it: hex in either case, whitespace around entries
 * ignored (WorkOS writes ", "), and in a `key=value` list only the entries with a key the
 * signed header has — others are skipped, as Stripe's own parser skips them, so
 * `t=…,,v1=…` and `t=…,x,v1=…` are spellings of the same signature.
 */
function asRead(value: string, signed: string, separator: string | undefined): string {
  const squeeze = (v: string) => v.replace(/\s+/g, "").toLowerCase();
  if (separator === undefined) return squeeze(value);
  const keyOf = (entry: string) => (entry.includes("=") ? entry.slice(0, entry.indexOf("=")) : undefined);
  const keys = new Set(squeeze(signed).split(separator).map(keyOf));
  return squeeze(value)
    .split(separator)
    .filter((entry) => keyOf(entry) !== undefined && keys.has(keyOf(entry)))
    .join(separator);
}

/** One character of a header value replaced by another, or the value cut short. */
function mutate(value: string, index: number, replacement: string, truncate: boolean): string {
  if (value.length === 0) return replacement;
  const i = index % value.length;
  if (truncate) return value.slice(0, i);
  return value.slice(0, i) + replacement + value.slice(i + 1);
}

describe.each(SPECS)("$name", (spec) => {
  // Built once per spec, not per case: every input of a scheme is a constant here, and
  // parsing its keys (PEM, PKCS #8, SPKI) again in each case was a third of this file's
  // time. A scheme keeps no state between requests but PayPal's certificate cache, which a
  // long-lived scheme has in production too.
  const schemes: Schemes = { node: spec.make("node"), web: spec.make("web") };

  it("round trip: what it signs verifies, identically on node:crypto and Web Crypto", async () => {
    await fc.assert(
      fc.asyncProperty(event, when, idArb, async (e, ms, id) => {
        const request = await spec.request(schemes.node, e, ms, id);
        const webSigned = await spec.request(schemes.web, e, ms, id);
        const o = await both(schemes, request, ms);
        expectBe(o.ok, true);
        expectBe((await both(schemes, webSigned, ms)).ok, true);
      }),
      PARAMS,
    );
  }, propTimeout(2.2));

  it("tamper: a changed signature header is rejected, with the same code on both paths, and never throws", async () => {
    if (spec.signatureHeader === undefined) return;
    const header = spec.signatureHeader;
    await fc.assert(
      fc.asyncProperty(event, when, fc.nat(), fc.string({ maxLength: 2 }), fc.boolean(), async (e, ms, index, replacement, truncate) => {
        const request = await spec.request(schemes.node, e, ms, "id-1");
        const value = request.headers[header]!;
        const changed = mutate(value, index, replacement, truncate);
        fc.pre(changed !== value);
        const o = await both(schemes, { ...request, headers: { ...request.headers, [header]: changed } }, ms);
        // A spelling of the same signature may verify (see `asRead`); any other change is a rejection.
        if (o.ok) {
          expectBe(asRead(changed, value, ENTRY_SEPARATOR[spec.name]), asRead(value, value, ENTRY_SEPARATOR[spec.name]));
          return;
        }
        expect(["signature_mismatch", "malformed_header", "missing_header", "timestamp_missing", "timestamp_too_old", "timestamp_too_new"]).toContain(o.code);
      }),
      PARAMS,
    );
  }, propTimeout(0.89));

  it("tamper: any changed byte of the body is rejected where the body is signed (and Mailgun/GitLab say so by accepting it)", async () => {
    await fc.assert(
      fc.asyncProperty(event, when, fc.nat(), async (e, ms, index) => {
        const request = await spec.request(schemes.node, e, ms, "id-1");
        const text = typeof request.body === "string" ? request.body : Buffer.from(request.body as Uint8Array).toString();
        if (spec.name === "mailgun") {
          // Only the event data: Mailgun's signature covers none of it.
          const parsed = JSON.parse(text);
          const forged = JSON.stringify({ ...parsed, "event-data": { ...parsed["event-data"], text: `${parsed["event-data"].text}!` } });
          expectBe((await both(schemes, { ...request, body: forged }, ms)).ok, true);
          return;
        }
        const o = await both(schemes, { ...request, body: flip(text, index) }, ms);
        if (!spec.bodySigned) {
          // GitLab: the token says nothing about the body; it either parses or it does not.
          expectBe(o.ok || o.code === "invalid_json", true);
          return;
        }
        expect(o).toMatchObject({ ok: false, code: "signature_mismatch" });
      }),
      PARAMS,
    );
  }, propTimeout(1.17));

  it("window: a signed timestamp outside the tolerance is rejected as too old or too new", async () => {
    if (!spec.timestamped) return;
    await fc.assert(
      fc.asyncProperty(event, when, fc.integer({ min: 700, max: 86_400 * 365 }), fc.boolean(), async (e, ms, seconds, later) => {
        const request = await spec.request(schemes.node, e, ms, "id-1");
        const now = later ? ms + seconds * 1000 : ms - seconds * 1000;
        const o = await both(schemes, request, now);
        expect(o).toMatchObject({ ok: false, code: later ? "timestamp_too_old" : "timestamp_too_new" });
      }),
      PARAMS,
    );
  }, propTimeout(0.82));

  it("robustness: arbitrary header values and bodies never throw and never verify", async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(spec.signatureHeader ?? "x-none", "content-type", "x-signature-timestamp", "webhook-id", "svix-timestamp", "paypal-cert-url", "paypal-auth-algo", "paypal-transmission-id", "paypal-transmission-time"), fc.string({ maxLength: 120 })), fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), async (headers, body) => {
        const o = await both(schemes, { body, headers, url: URL_BASE }, T0);
        expectBe(o.ok, false);
      }),
      PARAMS,
    );
  }, propTimeout(0.08));
});
