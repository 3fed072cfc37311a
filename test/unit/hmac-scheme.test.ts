// hmacScheme describes real providers declaratively. Each description below is checked
// against the provider's documented formula computed with node:crypto (see PROVIDERS.md):
// what the formula signs, the scheme verifies; what the scheme signs equals the formula;
// tampered requests are refused with the exact code. Both crypto paths.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacScheme, type HmacSchemeOptions } from "../../src/schemes/hmac";
import { signWebhook } from "../../src/sign";
import type { WebhookScheme } from "../../src/types";
import { verifyWebhook } from "../../src/verify";
import { CRYPTO_IMPLS, expectCode, jsonBody, tamperBody, type CryptoImpl } from "../helpers/crypto-impls";
import { expectBe, expectEqual, params, propTimeout } from "../property/support";

type Algorithm = "sha1" | "sha256" | "sha512";
const mac = (algorithm: Algorithm, key: string | Buffer, data: string) => createHmac(algorithm, key).update(data, "utf8").digest();

const T_MS = 1_700_000_000_000;

interface Provider {
  readonly name: string;
  readonly options: Omit<HmacSchemeOptions, "name" | "secret" | "crypto">;
  readonly secrets: readonly [string, string];
  /** The headers the provider sends, per its documented formula (node:crypto). */
  formula(secret: string, body: string, tsMs: number, id: string): Record<string, string>;
  /** Whether the signed timestamp is in a header (so that changing it must break the signature). */
  readonly timestampHeader?: string;
  /** The body for an event at tsMs (Linear puts the timestamp in the body). */
  body?(base: string, tsMs: number): string;
  readonly url?: string;
  readonly method?: string;
  /** What the verified event must report, beyond the payload, given the header id and the body's event. */
  expected(headerId: string, event: { id: string; type: string }, tsMs: number): { id: string | undefined; type: string | undefined; timestamp: number | undefined };
}

const providers: Provider[] = [
  {
    // Paddle Billing: `Paddle-Signature: ts=<s>;h1=<hex>`, HMAC-SHA256 of `${ts}:${body}`.
    name: "Paddle-like (pairs with ;)",
    options: {
      signature: { header: "Paddle-Signature", pairs: { separator: ";", key: "h1" } },
      timestamp: { signatureKey: "ts", unit: "s" },
      signedContent: "{timestamp}:{body}",
      toleranceSeconds: 5,
      id: { body: "id" },
      type: { body: "type" },
    },
    secrets: ["pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI", "pdl_ntfset_previous"],
    formula: (secret, body, ts) => {
      const s = Math.floor(ts / 1000);
      return { "Paddle-Signature": `ts=${s};h1=${mac("sha256", secret, `${s}:${body}`).toString("hex")}` };
    },
    expected: (_h, e, ts) => ({ id: e.id, type: e.type, timestamp: Math.floor(ts / 1000) * 1000 }),
  },
  {
    // A Standard-Webhooks-like list, with its own header names and a base64 secret.
    name: "list of versioned base64 signatures",
    options: {
      secretFormat: "base64",
      signature: { header: "x-list-signature", encoding: "base64", list: { separator: " ", prefix: "v1," } },
      timestamp: { header: "x-list-timestamp", unit: "s" },
      id: { header: "x-list-id" },
      type: { header: "x-list-event" },
      signedContent: "{id}.{timestamp}.{body}",
    },
    secrets: [Buffer.from("list-provider-key-0123456789abcd").toString("base64"), Buffer.from("other-key").toString("base64")],
    timestampHeader: "x-list-timestamp",
    formula: (secret, body, ts, id) => {
      const s = Math.floor(ts / 1000);
      const sig = mac("sha256", Buffer.from(secret, "base64"), `${id}.${s}.${body}`).toString("base64");
      return { "x-list-signature": `v2,AAAA v1,${sig}`, "x-list-timestamp": String(s), "x-list-id": id, "x-list-event": "evt.listed" };
    },
    expected: (h, _e, ts) => ({ id: h, type: "evt.listed", timestamp: Math.floor(ts / 1000) * 1000 }),
  },
  {
    // Typeform: `Typeform-Signature: sha256=<base64>` — a GitHub-like prefix, but base64.
    name: "prefix + base64 (Typeform)",
    options: { signature: { header: "Typeform-Signature", prefix: "sha256=", encoding: "base64" }, id: { body: "id" }, type: { body: "type" } },
    secrets: ["typeform-secret", "typeform-old"],
    formula: (secret, body) => ({ "Typeform-Signature": `sha256=${mac("sha256", secret, body).toString("base64")}` }),
    expected: (_h, e) => ({ id: e.id, type: e.type, timestamp: undefined }),
  },
  {
    // Vercel: `x-vercel-signature: <hex HMAC-SHA1>`.
    name: "sha1 hex without prefix (Vercel)",
    options: { algorithm: "sha1", signature: { header: "x-vercel-signature" }, id: { body: "id" }, type: { body: "type" } },
    secrets: ["vercel-secret", "vercel-old"],
    formula: (secret, body) => ({ "x-vercel-signature": mac("sha1", secret, body).toString("hex") }),
    expected: (_h, e) => ({ id: e.id, type: e.type, timestamp: undefined }),
  },
  {
    name: "sha512 hex with prefix",
    options: { algorithm: "sha512", signature: { header: "x-acme-signature", prefix: "sha512=" }, id: { header: "x-acme-delivery" }, type: { body: "type" } },
    secrets: ["acme-512", "acme-512-old"],
    formula: (secret, body, _ts, id) => ({ "x-acme-signature": `sha512=${mac("sha512", secret, body).toString("hex")}`, "x-acme-delivery": id }),
    expected: (h, e) => ({ id: h, type: e.type, timestamp: undefined }),
  },
  {
    // HubSpot v3: base64 HMAC-SHA256 of method + uri + body + timestamp (ms), body in the middle.
    name: "{body} in the middle, ms timestamp, url and method (HubSpot v3)",
    options: {
      signature: { header: "X-HubSpot-Signature-v3", encoding: "base64" },
      timestamp: { header: "X-HubSpot-Request-Timestamp", unit: "ms" },
      signedContent: "{method}{url}{body}{timestamp}",
      type: { body: "type" },
    },
    secrets: ["hubspot-client-secret", "hubspot-old"],
    url: "https://hooks.example.com/hubspot?portal=42",
    method: "POST",
    timestampHeader: "X-HubSpot-Request-Timestamp",
    formula: (secret, body, ts) => ({
      "X-HubSpot-Signature-v3": mac("sha256", secret, `POSThttps://hooks.example.com/hubspot?portal=42${body}${ts}`).toString("base64"),
      "X-HubSpot-Request-Timestamp": String(ts),
    }),
    expected: (_h, e, ts) => ({ id: undefined, type: e.type, timestamp: ts }),
  },
  {
    // WorkOS: `WorkOS-Signature: t=<ms>, v1=<hex>` (note the space), HMAC of `${t}.${body}`.
    name: "pairs with ', ' and ms timestamp (WorkOS)",
    options: {
      signature: { header: "WorkOS-Signature", pairs: { separator: ", ", key: "v1" } },
      timestamp: { signatureKey: "t", unit: "ms" },
      signedContent: "{timestamp}.{body}",
      toleranceSeconds: 180,
      id: { body: "id" },
      type: { body: "type" },
    },
    secrets: ["workos-secret", "workos-old"],
    formula: (secret, body, ts) => ({ "WorkOS-Signature": `t=${ts}, v1=${mac("sha256", secret, `${ts}.${body}`).toString("hex")}` }),
    expected: (_h, e, ts) => ({ id: e.id, type: e.type, timestamp: ts }),
  },
  {
    // Twitch EventSub: sha256=<hex> of id + RFC 3339 timestamp + body, no separators.
    name: "RFC 3339 timestamp (Twitch EventSub)",
    options: {
      signature: { header: "Twitch-Eventsub-Message-Signature", prefix: "sha256=" },
      timestamp: { header: "Twitch-Eventsub-Message-Timestamp", unit: "rfc3339" },
      id: { header: "Twitch-Eventsub-Message-Id" },
      type: { header: "Twitch-Eventsub-Subscription-Type" },
      signedContent: "{id}{timestamp}{body}",
      toleranceSeconds: 600,
    },
    secrets: ["twitch-subscription-secret", "twitch-old-secret"],
    timestampHeader: "Twitch-Eventsub-Message-Timestamp",
    formula: (secret, body, ts, id) => {
      const iso = new Date(ts).toISOString();
      return {
        "Twitch-Eventsub-Message-Signature": `sha256=${mac("sha256", secret, `${id}${iso}${body}`).toString("hex")}`,
        "Twitch-Eventsub-Message-Timestamp": iso,
        "Twitch-Eventsub-Message-Id": id,
        "Twitch-Eventsub-Subscription-Type": "channel.follow",
      };
    },
    expected: (h, _e, ts) => ({ id: h, type: "channel.follow", timestamp: ts }),
  },
  {
    // Linear: hex HMAC of the body; the timestamp is the body's webhookTimestamp (ms), ±60 s.
    name: "timestamp from a body field (Linear)",
    options: {
      signature: { header: "Linear-Signature" },
      timestamp: { body: "webhookTimestamp", unit: "ms" },
      toleranceSeconds: 60,
      id: { header: "Linear-Delivery" },
      type: { body: "type" },
    },
    secrets: ["lin_wh_secret", "lin_wh_old"],
    body: (base, ts) => JSON.stringify({ ...(JSON.parse(base) as object), webhookTimestamp: ts }),
    formula: (secret, body, _ts, id) => ({ "Linear-Signature": mac("sha256", secret, body).toString("hex"), "Linear-Delivery": id }),
    expected: (h, e, ts) => ({ id: h, type: e.type, timestamp: ts }),
  },
];

function build(p: Provider, crypto: CryptoImpl, secret: string | string[] = p.secrets[0]): WebhookScheme {
  return hmacScheme({ name: "custom", ...p.options, secret, crypto });
}

const tsMs = fc.integer({ min: T_MS, max: T_MS + 86_400_000 * 365 });
const idArb = fc.uuid();

describe.each(CRYPTO_IMPLS)("hmacScheme for custom providers (crypto: %s)", (crypto) => {
  describe.each(providers.map((p) => [p.name, p] as const))("%s", (_name, p) => {
    const scheme = build(p, crypto);
    const request = (body: string | Uint8Array, headers: Record<string, string>) => ({ body, headers, url: p.url, method: p.method });

    it("verifies requests signed with the documented formula", async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, tsMs, idArb, async ({ event, body: base }, ts, id) => {
          const body = p.body ? p.body(base, ts) : base;
          const verified = await verifyWebhook(request(body, p.formula(p.secrets[0], body, ts, id)), scheme, { now: ts });
          const expected = p.expected(id, event, ts);
          expectBe(verified.id, expected.id);
          expectBe(verified.type, expected.type);
          expectBe(verified.timestamp?.getTime(), expected.timestamp);
          expectBe(verified.secretIndex, 0);
          expectBe(verified.scheme, "custom");
          expectEqual(verified.payload, JSON.parse(body));
        }),
        params(),
      );
    }, propTimeout(0.18));

    it("signs exactly what the documented formula produces, and verifies it back", async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, tsMs, idArb, async ({ body: base }, ts, id) => {
          const body = p.body ? p.body(base, ts) : base;
          const signed = await signWebhook(body, scheme, { timestamp: ts, id, url: p.url, method: p.method });
          const expected = p.formula(p.secrets[0], body, ts, id);
          const sigName = Object.keys(expected)[0]!;
          const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));
          // A list scheme signs one entry; the formula's header also carries a foreign version.
          const expectedSig = expected[sigName]!.replace(/^v2,AAAA /, "");
          expectBe(lower[sigName.toLowerCase()], expectedSig);
          if (p.timestampHeader) expectBe(lower[p.timestampHeader.toLowerCase()], expected[p.timestampHeader]);
          const verified = await verifyWebhook(request(body, signed), scheme, { now: ts });
          expectEqual(verified.payload, JSON.parse(body));
        }),
        params(),
      );
    }, propTimeout(0.29));

    it("rejects a changed body, signature, timestamp or secret with signature_mismatch", async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, tsMs, idArb, fc.nat(), async ({ body: base }, ts, id, index) => {
          const body = p.body ? p.body(base, ts) : base;
          const headers = p.formula(p.secrets[0], body, ts, id);
          expectBe((await verifyWebhook(request(body, headers), scheme, { now: ts })) !== undefined, true);
          await expectCode(verifyWebhook(request(tamperBody(body, index), headers), scheme, { now: ts }), "signature_mismatch");
          await expectCode(verifyWebhook(request(body, p.formula(p.secrets[1], body, ts, id)), scheme, { now: ts }), "signature_mismatch");
          // Re-sign another body and graft its signature header onto this request.
          const sigName = Object.keys(headers)[0]!;
          const graft = { ...headers, [sigName]: p.formula(p.secrets[0], `${body} `, ts, id)[sigName]! };
          await expectCode(verifyWebhook(request(body, graft), scheme, { now: ts }), "signature_mismatch");
          if (p.timestampHeader) {
            const shifted = { ...p.formula(p.secrets[0], body, ts + 1000, id), [sigName]: headers[sigName]! };
            await expectCode(verifyWebhook(request(body, shifted), scheme, { now: ts }), "signature_mismatch");
          }
        }),
        params(),
      );
    }, propTimeout(0.68));

    it("accepts a rotated secret and reports its index", async () => {
      const rolling = build(p, crypto, [p.secrets[1], p.secrets[0]]);
      const base = JSON.stringify({ id: "evt_rot", type: "rotated" });
      const body = p.body ? p.body(base, T_MS) : base;
      const verified = await verifyWebhook(request(body, p.formula(p.secrets[0], body, T_MS, "id-rot")), rolling, { now: T_MS });
      expect(verified.secretIndex).toBe(1);
    });
  });

  describe("provider-specific behaviour", () => {
    const paddle = build(providers[0]!, crypto);
    const body = JSON.stringify({ id: "ntf_1", type: "transaction.completed" });
    const t = 1_700_000_000;
    const h1 = (secret: string) => mac("sha256", secret, `${t}:${body}`).toString("hex");

    it("Paddle-like: any h1 may match, wherever it stands, and spaces around ; are tolerated", async () => {
      const good = h1(providers[0]!.secrets[0]);
      const bad = h1("nope");
      for (const header of [`ts=${t};h1=${bad};h1=${good}`, `ts=${t};h1=${good};h1=${bad}`, `h1=${good};ts=${t}`, `ts=${t} ; h1=${good}`]) {
        await expect(verifyWebhook({ body, headers: { "paddle-signature": header } }, paddle, { now: t * 1000 })).resolves.toMatchObject({ id: "ntf_1" });
      }
      await expectCode(verifyWebhook({ body, headers: { "paddle-signature": `ts=${t};h1=${bad}` } }, paddle, { now: t * 1000 }), "signature_mismatch");
      // Paddle's 5 s window.
      await expectCode(verifyWebhook({ body, headers: { "paddle-signature": `ts=${t};h1=${good}` } }, paddle, { now: (t + 6) * 1000 }), "timestamp_too_old");
      await expectCode(verifyWebhook({ body, headers: { "paddle-signature": `ts=${t};h1=${good}` } }, paddle, { now: (t - 6) * 1000 }), "timestamp_too_new");
    });

    it("Paddle-like: signs ts=…;h1=… with the separator as given", async () => {
      const signed = await signWebhook(body, paddle, { timestamp: t * 1000 });
      expect(signed["paddle-signature"]).toBe(`ts=${t};h1=${h1(providers[0]!.secrets[0])}`);
      expect(signed["content-type"]).toBe("application/json");
    });

    it("Twitch-like: verifies a nanosecond RFC 3339 timestamp used verbatim in the signed bytes", async () => {
      const twitch = build(providers[7]!, crypto);
      const iso = "2023-11-14T22:13:20.123456789Z";
      const id = "e76c6bd4-55c9-4987-8304-da1588d8988b";
      const payload = JSON.stringify({ subscription: { type: "channel.follow" }, event: { user_name: "Ünïcode" } });
      const headers = {
        "Twitch-Eventsub-Message-Signature": `sha256=${mac("sha256", providers[7]!.secrets[0], `${id}${iso}${payload}`).toString("hex")}`,
        "Twitch-Eventsub-Message-Timestamp": iso,
        "Twitch-Eventsub-Message-Id": id,
        "Twitch-Eventsub-Subscription-Type": "channel.follow",
      };
      const verified = await verifyWebhook({ body: payload, headers }, twitch, { now: Date.parse("2023-11-14T22:20:00Z") });
      expect(verified.timestamp?.toISOString()).toBe("2023-11-14T22:13:20.123Z");
      expect(verified.id).toBe(id);
      await expectCode(verifyWebhook({ body: payload, headers: { ...headers, "Twitch-Eventsub-Message-Timestamp": "2023-11-14T22:13:20.12345678Z" } }, twitch, { now: Date.parse("2023-11-14T22:20:00Z") }), "signature_mismatch");
      await expectCode(verifyWebhook({ body: payload, headers: { ...headers, "Twitch-Eventsub-Message-Timestamp": "1699999999" } }, twitch), "malformed_header");
      await expectCode(verifyWebhook({ body: payload, headers }, twitch, { now: Date.parse("2023-11-14T22:23:21Z") }), "timestamp_too_old");
    });

    it("HubSpot-like: the URL and the method are part of the signed bytes", async () => {
      const p = providers[5]!;
      const hubspot = build(p, crypto);
      const b = JSON.stringify([{ type: "contact.creation", objectId: 1 }]);
      const headers = p.formula(p.secrets[0], b, T_MS, "");
      await expect(verifyWebhook({ body: b, headers, url: p.url, method: "POST" }, hubspot, { now: T_MS })).resolves.toMatchObject({ timestamp: new Date(T_MS) });
      await expectCode(verifyWebhook({ body: b, headers, url: `${p.url}&x=1`, method: "POST" }, hubspot, { now: T_MS }), "signature_mismatch");
      await expectCode(verifyWebhook({ body: b, headers, url: p.url, method: "PUT" }, hubspot, { now: T_MS }), "signature_mismatch");
      await expectCode(verifyWebhook({ body: b, headers }, hubspot, { now: T_MS }), "signature_mismatch");
      await expectCode(verifyWebhook({ body: b, headers: { ...headers, "X-HubSpot-Request-Timestamp": String(T_MS / 1000) } }, hubspot, { now: T_MS }), "timestamp_too_old");
    });

    it("Linear-like: the body's timestamp is checked after the signature, two-sided", async () => {
      const p = providers[8]!;
      const linear = build(p, crypto);
      const make = (fields: Record<string, unknown>) => {
        const b = JSON.stringify({ type: "Issue", action: "create", ...fields });
        return { body: b, headers: p.formula(p.secrets[0], b, 0, "delivery-1") };
      };
      await expect(verifyWebhook(make({ webhookTimestamp: T_MS }), linear, { now: T_MS + 60_000 })).resolves.toMatchObject({ id: "delivery-1", type: "Issue" });
      await expect(verifyWebhook(make({ webhookTimestamp: T_MS }), linear, { now: T_MS - 60_000 })).resolves.toBeDefined();
      await expectCode(verifyWebhook(make({ webhookTimestamp: T_MS }), linear, { now: T_MS + 61_000 }), "timestamp_too_old");
      await expectCode(verifyWebhook(make({ webhookTimestamp: T_MS }), linear, { now: T_MS - 61_000 }), "timestamp_too_new");
      await expectCode(verifyWebhook(make({}), linear, { now: T_MS }), "timestamp_missing");
      await expectCode(verifyWebhook(make({ webhookTimestamp: "yesterday" }), linear, { now: T_MS }), "timestamp_missing");
      await expectCode(verifyWebhook(make({ webhookTimestamp: { ms: T_MS } }), linear, { now: T_MS }), "timestamp_missing");
      await expect(verifyWebhook(make({ webhookTimestamp: String(T_MS) }), linear, { now: T_MS })).resolves.toBeDefined();
      // The signature comes first: a forged body never reaches the timestamp check.
      const forged = make({ webhookTimestamp: T_MS });
      await expectCode(verifyWebhook({ ...forged, body: forged.body.replace("Issue", "Issux") }, linear, { now: T_MS + 3_600_000 }), "signature_mismatch");
    });

    it("reads the first present of several signature header names and signs the first", async () => {
      const both = hmacScheme({ name: "renamed", secret: "s", crypto, signature: { header: ["X-New-Signature", "X-Old-Signature"] } });
      const b = "{}";
      const sig = mac("sha256", "s", b).toString("hex");
      await expect(verifyWebhook({ body: b, headers: { "x-old-signature": sig } }, both)).resolves.toBeDefined();
      await expect(verifyWebhook({ body: b, headers: { "x-new-signature": sig, "x-old-signature": "zz" } }, both)).resolves.toBeDefined();
      await expectCode(verifyWebhook({ body: b, headers: { "x-new-signature": "0".repeat(64), "x-old-signature": sig } }, both), "signature_mismatch");
      expect(Object.keys(await signWebhook(b, both))).toEqual(["content-type", "x-new-signature"]);
    });

    it("extracts id and type by nested body path, header or function, and reshapes the payload", async () => {
      const custom = hmacScheme({
        name: "shaped",
        secret: "s",
        crypto,
        signature: { header: "x-sig" },
        id: { body: "data.id" },
        type: ({ header, payload }) => `${header("x-topic") ?? "?"}:${(payload as { kind: string }).kind}`,
        transformPayload: (payload) => ({ kind: (payload as { data: { kind: string } }).data.kind }),
        staticHeaders: { "x-api-version": "2024-01" },
      });
      const b = JSON.stringify({ data: { id: 12345, kind: "created" } });
      const verified = await verifyWebhook({ body: b, headers: { "x-sig": mac("sha256", "s", b).toString("hex"), "X-Topic": "orders" } }, custom);
      expect(verified.payload).toEqual({ kind: "created" });
      expect(verified.type).toBe("orders:created");
      // Extractors see the reshaped payload, which has no data.id any more.
      expect(verified.id).toBeUndefined();
      const signed = await signWebhook(b, custom, { contentType: "application/vnd.acme+json" });
      expect(signed).toMatchObject({ "x-api-version": "2024-01", "content-type": "application/vnd.acme+json" });
      const plain = hmacScheme({ name: "plain", secret: "s", crypto, signature: { header: "x-sig" }, id: { body: "data.id" } });
      expect((await verifyWebhook({ body: b, headers: { "x-sig": mac("sha256", "s", b).toString("hex") } }, plain)).id).toBe("12345");
    });

    it("refuses a signed timestamp beyond what a Date can hold, even with the window disabled", async () => {
      const unbounded = hmacScheme({
        name: "far",
        secret: "s",
        crypto,
        signature: { header: "x-sig" },
        timestamp: { header: "x-ts", unit: "s" },
        signedContent: "{timestamp}.{body}",
        toleranceSeconds: Number.POSITIVE_INFINITY,
      });
      const request = (ts: string) => ({ body: "{}", headers: { "x-sig": mac("sha256", "s", `${ts}.{}`).toString("hex"), "x-ts": ts } });
      await expect(verifyWebhook(request("8640000000000"), unbounded)).resolves.toMatchObject({ timestamp: new Date(8.64e15) });
      await expectCode(verifyWebhook(request("9999999999999999"), unbounded), "malformed_header");
    });

    it("does not sign or require a timestamp when none is described", async () => {
      const plain = hmacScheme({ name: "plain", secret: "s", crypto, signature: { header: "x-sig" } });
      expect(plain.toleranceSeconds).toBeUndefined();
      const signed = await signWebhook("{}", plain, { timestamp: 0 });
      expect(signed).toEqual({ "content-type": "application/json", "x-sig": mac("sha256", "s", "{}").toString("hex") });
      await expect(verifyWebhook({ body: "{}", headers: signed }, plain, { now: 0 })).resolves.toMatchObject({ timestamp: undefined, id: undefined, type: undefined });
    });
  });
});

describe("verifyRequest's direct entry into a built-in scheme", () => {
  const secret = "whsec_direct_entry";
  const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });

  it("is not taken once `verify` is replaced: the replacement runs, and its answer is the one given", async () => {
    const base = hmacScheme({ name: "acme", secret, signature: { header: "x-acme-signature" }, id: { body: "id" } });
    const headers = await signWebhook(body, base);
    const seen: string[] = [];
    const wrapped: WebhookScheme = {
      ...base,
      verify: (req) => {
        seen.push(req.header("x-acme-signature") ?? "none");
        return { ok: false, code: "signature_mismatch" };
      },
    };
    await expectCode(verifyWebhook({ body, headers }, wrapped), "signature_mismatch");
    expect(seen).toEqual([headers["x-acme-signature"]]);
    // The original still verifies the same request through its direct entry.
    expect((await verifyWebhook({ body, headers }, base)).id).toBe("evt_1");
  });

  it("gives the same outcome as `verify` with a SchemeRequest, for headers in any casing", async () => {
    const scheme = hmacScheme({
      name: "acme",
      secret,
      signature: { header: "x-acme-signature", pairs: { separator: ",", key: "v1" } },
      timestamp: { signatureKey: "t", unit: "s" },
      signedContent: "{timestamp}.{body}",
      id: { header: "x-acme-id" },
      type: { body: "type" },
    });
    const signed = await signWebhook(body, scheme, { id: "d-1", timestamp: new Date(T_MS) });
    const mixed = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]));
    for (const headers of [signed, mixed, new Headers(signed)]) {
      const direct = await verifyWebhook({ body, headers }, scheme, { now: T_MS });
      const viaView = await scheme.verify(
        { body, header: (n) => (headers instanceof Headers ? (headers.get(n) ?? undefined) : (signed as Record<string, string>)[n]), url: undefined, method: "POST" },
        { nowMs: T_MS, toleranceSeconds: undefined },
      );
      expect(viaView.ok && viaView.webhook).toEqual(direct);
      expect(direct.id).toBe("d-1");
    }
  });
});
