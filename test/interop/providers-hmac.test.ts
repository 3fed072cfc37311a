// The HMAC providers that ship an official verifier: the SDK is the oracle. It signs (where
// it can) and we verify; we sign and it verifies; every tampered variant is rejected by both,
// with the exact code on our side; and where the SDK is wrong we say so here and in
// docs/providers.md. Random bodies throughout, on both crypto paths.
import { Paddle } from "@paddle/paddle-node-sdk";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { WorkOS } from "@workos-inc/node";
// @ts-expect-error -- coinbase-commerce-node ships no types
import coinbaseSdk from "coinbase-commerce-node";
import fc from "fast-check";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { clerk } from "../../src/schemes/clerk";
import { coinbaseCommerce } from "../../src/schemes/coinbase-commerce";
import { linear } from "../../src/schemes/linear";
import { paddle } from "../../src/schemes/paddle";
import { resend } from "../../src/schemes/resend";
import { workos } from "../../src/schemes/workos";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, expectFailure, flip, hmac, outcomeOf, tamperChar } from "../fixtures/providers/support";

const RUNS = { numRuns: INTEROP_RUNS };

interface CoinbaseWebhook {
  computeSignature(payload: string, secret: string): string;
  verifyEventBody(payload: string, sigHeader: string, secret: string): { id: string; type: string };
  verifySigHeader(payload: string, sigHeader: string, secret: string): true;
}
const coinbase = coinbaseSdk as { Webhook: CoinbaseWebhook };
const indent = fc.constantFrom(0, 2, "\t");

// ---------------------------------------------------------------------------------------
// Paddle Billing

describe.each(IMPLS)("paddle interop (crypto: %s)", (impl) => {
  const SECRET = "pdl_ntfset_01h_interop_secret_key_1234567890";
  const OTHER = "pdl_ntfset_01h_another_secret_abcdefghijkl";
  const sdk = new Paddle("pdl_sdbx_apikey_interop");
  const scheme = paddle({ secret: SECRET, crypto: impl });
  const paddleBody = fc.tuple(eventObject, indent).map(([e, ind]) => JSON.stringify({ event_id: e.id, event_type: e.type, occurred_at: "2024-01-01T00:00:00Z", data: e.data }, null, ind));
  // Paddle's formula, independent of hookguard (the node SDK has no signing helper).
  const header = (body: string, ts: number, secret = SECRET) => `ts=${ts};h1=${hmac("sha256", secret, `${ts}:${body}`, "hex")}`;

  it("signs what the Paddle SDK's isSignatureValid and unmarshal accept", async () => {
    await fc.assert(
      fc.asyncProperty(paddleBody, async (body) => {
        const headers = await signWebhook(body, scheme);
        expect(headers["paddle-signature"]).toMatch(/^ts=\d+;h1=[0-9a-f]{64}$/);
        expect(await sdk.webhooks.isSignatureValid(body, SECRET, headers["paddle-signature"]!)).toBe(true);
        const event = await sdk.webhooks.unmarshal(body, SECRET, headers["paddle-signature"]!);
        expect(event.eventId).toBe(JSON.parse(body).event_id);
        expect(await sdk.webhooks.isSignatureValid(`${body} `, SECRET, headers["paddle-signature"]!)).toBe(false);
      }),
      RUNS,
    );
  });

  it("verifies what Paddle's formula signs, and agrees with the SDK on every tampered variant", async () => {
    await fc.assert(
      fc.asyncProperty(paddleBody, fc.nat(), async (body, index) => {
        const ts = Math.floor(Date.now() / 1000);
        const good = header(body, ts);
        expect(await sdk.webhooks.isSignatureValid(body, SECRET, good)).toBe(true);
        const verified = await verifyWebhook({ body, headers: { "Paddle-Signature": good } }, scheme);
        expect(verified).toMatchObject({ id: JSON.parse(body).event_id, type: JSON.parse(body).event_type, scheme: "paddle", secretIndex: 0 });
        expect(verified.timestamp?.getTime()).toBe(ts * 1000);
        const h1 = good.split("h1=")[1]!;
        const variants: [string | Buffer, string][] = [
          [flip(body, index), good],
          [body, `ts=${ts - 1};h1=${h1}`],
          [body, `ts=${ts};h1=${tamperChar(h1, index, "hex")}`],
          [body, header(body, ts, OTHER)],
        ];
        for (const [b, h] of variants) {
          await expectFailure(scheme, { body: b, headers: { "paddle-signature": h } }, "signature_mismatch", undefined, [SECRET]);
          expect(await sdk.webhooks.isSignatureValid(b.toString(), SECRET, h)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it("accepts ANY matching h1 while a secret rotates (the node SDK keeps only the last h1)", async () => {
    const body = JSON.stringify({ event_id: "evt_rot", event_type: "transaction.completed" });
    const ts = Math.floor(Date.now() / 1000);
    const good = header(body, ts).split("h1=")[1]!;
    const old = header(body, ts, OTHER).split("h1=")[1]!;
    const goodFirst = `ts=${ts};h1=${good};h1=${old}`;
    const goodLast = `ts=${ts};h1=${old};h1=${good}`;
    await expect(verifyWebhook({ body, headers: { "paddle-signature": goodFirst } }, scheme)).resolves.toMatchObject({ id: "evt_rot" });
    await expect(verifyWebhook({ body, headers: { "paddle-signature": goodLast } }, scheme)).resolves.toMatchObject({ id: "evt_rot" });
    // The SDK's parser overwrites h1 with each entry: only the last one counts.
    expect(await sdk.webhooks.isSignatureValid(body, SECRET, goodFirst)).toBe(false);
    expect(await sdk.webhooks.isSignatureValid(body, SECRET, goodLast)).toBe(true);
    // Rotation on our side: either secret verifies, and secretIndex says which.
    const rolling = paddle({ secret: [SECRET, OTHER], crypto: impl });
    expect((await verifyWebhook({ body, headers: { "paddle-signature": `ts=${ts};h1=${old}` } }, rolling)).secretIndex).toBe(1);
  });

  it("keeps Paddle's 5-second window, on both sides", async () => {
    const body = JSON.stringify({ event_id: "evt_win", event_type: "transaction.completed" });
    const now = Date.now();
    const ts = Math.floor(now / 1000);
    const h = header(body, ts);
    await expect(verifyWebhook({ body, headers: { "paddle-signature": h } }, scheme, { now: (ts + 5) * 1000 })).resolves.toBeDefined();
    await expectFailure(scheme, { body, headers: { "paddle-signature": h } }, "timestamp_too_old", (ts + 6) * 1000);
    const stale = header(body, ts - 7);
    await expectFailure(scheme, { body, headers: { "paddle-signature": stale } }, "timestamp_too_old", now);
    expect(await sdk.webhooks.isSignatureValid(body, SECRET, stale)).toBe(false);
    // The SDK accepts any future timestamp; our window is two-sided.
    const future = header(body, ts + 60);
    expect(await sdk.webhooks.isSignatureValid(body, SECRET, future)).toBe(true);
    await expectFailure(scheme, { body, headers: { "paddle-signature": future } }, "timestamp_too_new", now);
    await expectFailure(scheme, { body, headers: { "paddle-signature": `h1=${h.split("h1=")[1]}` } }, "timestamp_missing", now);
    await expectFailure(scheme, { body, headers: {} }, "missing_header", now);
  });
});

// ---------------------------------------------------------------------------------------
// Linear

describe.each(IMPLS)("linear interop (crypto: %s)", (impl) => {
  const SECRET = "lin_wh_interop_secret_0123456789abcdef";
  const sdk = new LinearWebhookClient(SECRET);
  const scheme = linear({ secret: SECRET, crypto: impl });
  const linearBody = (offsetMs: number) =>
    fc.tuple(eventObject, indent).map(([e, ind]) => JSON.stringify({ action: "create", type: "Issue", data: e.data, webhookId: e.id, webhookTimestamp: Date.now() + offsetMs }, null, ind));

  it("signs what LinearWebhookClient.verify accepts", async () => {
    await fc.assert(
      fc.asyncProperty(linearBody(0), async (body) => {
        const headers = await signWebhook(body, scheme, { id: "delivery-1" });
        expect(headers["linear-signature"]).toMatch(/^[0-9a-f]{64}$/);
        expect(sdk.verify(Buffer.from(body), headers["linear-signature"]!)).toBe(true);
        expect(sdk.parseData(Buffer.from(body), headers["linear-signature"]!)).toEqual(JSON.parse(body));
        expect(() => sdk.verify(Buffer.from(`${body} `), headers["linear-signature"]!)).toThrow(/signature/);
      }),
      RUNS,
    );
  });

  it("verifies what the SDK accepts and rejects what it rejects", async () => {
    await fc.assert(
      fc.asyncProperty(linearBody(0), fc.nat(), async (body, index) => {
        const sig = hmac("sha256", SECRET, body, "hex");
        expect(sdk.verify(Buffer.from(body), sig)).toBe(true);
        const verified = await verifyWebhook({ body, headers: { "Linear-Signature": sig, "Linear-Delivery": "d-1" } }, scheme);
        expect(verified).toMatchObject({ id: "d-1", type: "Issue", scheme: "linear" });
        expect(verified.timestamp?.getTime()).toBe(JSON.parse(body).webhookTimestamp);
        for (const [b, s] of [
          [flip(body, index), sig],
          [Buffer.from(body), tamperChar(sig, index, "hex")],
          [Buffer.from(body), hmac("sha256", "another", body, "hex")],
        ] as const) {
          await expectFailure(scheme, { body: b, headers: { "linear-signature": s } }, "signature_mismatch");
          expect(() => sdk.verify(Buffer.from(b), s)).toThrow();
        }
      }),
      RUNS,
    );
  });

  it("checks the signed body timestamp ±60 s, like the SDK, and ignores the Linear-Timestamp header", async () => {
    const now = Date.now();
    for (const [offset, code] of [
      [-61_000, "timestamp_too_old"],
      [61_000, "timestamp_too_new"],
    ] as const) {
      const body = JSON.stringify({ type: "Issue", webhookTimestamp: now + offset });
      const sig = hmac("sha256", SECRET, body, "hex");
      await expectFailure(scheme, { body, headers: { "linear-signature": sig, "linear-timestamp": String(now) } }, code, now);
      expect(() => sdk.verify(Buffer.from(body), sig, now)).toThrow(/timestamp/);
    }
    const noTs = JSON.stringify({ type: "Issue" });
    const sig = hmac("sha256", SECRET, noTs, "hex");
    await expectFailure(scheme, { body: noTs, headers: { "linear-signature": sig, "linear-timestamp": String(now) } }, "timestamp_missing", now);
    expect(() => sdk.verify(Buffer.from(noTs), sig, now)).toThrow(/Missing webhook timestamp/);
    // Linear's hex is lower case; upper-case hex is the same bytes to us (the SDK compares strings).
    const body = JSON.stringify({ type: "Issue", webhookTimestamp: now });
    const upper = hmac("sha256", SECRET, body, "hex").toUpperCase();
    await expect(verifyWebhook({ body, headers: { "linear-signature": upper } }, scheme, { now })).resolves.toMatchObject({ type: "Issue" });
  });
});

// ---------------------------------------------------------------------------------------
// WorkOS

describe.each(IMPLS)("workos interop (crypto: %s)", (impl) => {
  const SECRET = "workos_interop_webhook_secret_0123456789";
  const sdk = new WorkOS("sk_test_interop_0123456789");
  const scheme = workos({ secret: SECRET, crypto: impl });
  // An event type the SDK deserialises (it returns undefined for types it does not know).
  const workosEvent = eventObject.map((e) => ({ id: `event_${e.id}`, event: "user.created", data: e.data, created_at: "2024-01-01T00:00:00.000Z" }));

  it("verifies what the SDK's computeSignature signs, over the compact JSON the SDK hashes", async () => {
    await fc.assert(
      fc.asyncProperty(workosEvent, async (event) => {
        const t = Date.now();
        const sig = await sdk.webhooks.computeSignature(t, event, SECRET);
        const body = JSON.stringify(event);
        const verified = await verifyWebhook({ body, headers: { "WorkOS-Signature": `t=${t}, v1=${sig}` } }, scheme, { now: t });
        expect(verified).toMatchObject({ id: event.id, type: event.event, scheme: "workos" });
        expect(verified.timestamp?.getTime()).toBe(t);
      }),
      RUNS,
    );
  });

  it("signs what the SDK's constructEvent accepts, and both reject tampered variants", async () => {
    await fc.assert(
      fc.asyncProperty(workosEvent, fc.nat(), async (event, index) => {
        const body = JSON.stringify(event);
        const headers = await signWebhook(body, scheme);
        const header = headers["workos-signature"]!;
        expect(header).toMatch(/^t=\d{13}, v1=[0-9a-f]{64}$/);
        const parsed = await sdk.webhooks.constructEvent({ payload: event, sigHeader: header, secret: SECRET });
        expect(parsed.id).toBe(event.id);
        const [t, v1] = header.split(", ");
        const tampered = `${t}, v1=${tamperChar(v1!.slice(3), index, "hex")}`;
        await expectFailure(scheme, { body, headers: { "workos-signature": tampered } }, "signature_mismatch");
        await expect(sdk.webhooks.constructEvent({ payload: event, sigHeader: tampered, secret: SECRET })).rejects.toThrow();
        await expectFailure(scheme, { body: flip(body, index), headers }, "signature_mismatch");
      }),
      RUNS,
    );
  });

  it("verifies the raw bytes: a pretty-printed body verifies here but not in the SDK, which re-serialises", async () => {
    const event = { id: "event_pretty", event: "user.created", data: { name: "Zoë" } };
    const body = JSON.stringify(event, null, 2);
    const headers = await signWebhook(body, scheme);
    await expect(verifyWebhook({ body, headers }, scheme)).resolves.toMatchObject({ id: "event_pretty" });
    await expect(sdk.webhooks.constructEvent({ payload: JSON.parse(body), sigHeader: headers["workos-signature"]!, secret: SECRET })).rejects.toThrow(/does not match/);
  });

  it("keeps the 180 s window (ms timestamps), two-sided", async () => {
    const body = JSON.stringify({ id: "event_w", event: "user.created" });
    const t = 1_700_000_000_000;
    const headers = await signWebhook(body, scheme, { timestamp: t });
    await expect(verifyWebhook({ body, headers }, scheme, { now: t + 180_000 })).resolves.toBeDefined();
    await expectFailure(scheme, { body, headers }, "timestamp_too_old", t + 181_000);
    await expectFailure(scheme, { body, headers }, "timestamp_too_new", t - 181_000);
  });
});

// ---------------------------------------------------------------------------------------
// Coinbase Commerce

describe.each(IMPLS)("coinbase commerce interop (crypto: %s)", (impl) => {
  const SECRET = "cc_interop_shared_secret_0123456789";
  const scheme = coinbaseCommerce({ secret: SECRET, crypto: impl });
  const ccBody = fc.tuple(eventObject, indent).map(([e, ind]) => JSON.stringify({ id: 1, scheduled_for: "2024-01-01T00:00:00Z", event: { id: e.id, type: "charge:confirmed", data: e.data } }, null, ind));

  it("agrees with Webhook.verifyEventBody both ways, and on tampered variants", async () => {
    await fc.assert(
      fc.asyncProperty(ccBody, fc.nat(), async (body, index) => {
        const sdkSig = coinbase.Webhook.computeSignature(body, SECRET);
        const verified = await verifyWebhook({ body, headers: { "X-CC-Webhook-Signature": sdkSig } }, scheme);
        expect(verified).toMatchObject({ id: JSON.parse(body).event.id, type: "charge:confirmed", scheme: "coinbase-commerce" });
        const headers = await signWebhook(body, scheme);
        expect(coinbase.Webhook.verifyEventBody(body, headers["x-cc-webhook-signature"]!, SECRET).id).toBe(JSON.parse(body).event.id);
        const bad = tamperChar(sdkSig, index, "hex");
        await expectFailure(scheme, { body, headers: { "x-cc-webhook-signature": bad } }, "signature_mismatch");
        expect(() => coinbase.Webhook.verifySigHeader(body, bad, SECRET)).toThrow();
        await expectFailure(scheme, { body: flip(body, index), headers: { "x-cc-webhook-signature": sdkSig } }, "signature_mismatch");
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------
// Clerk and Resend: Standard Webhooks under their own names

describe.each(IMPLS)("clerk and resend interop (crypto: %s)", (impl) => {
  const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const OTHER = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=";
  const svix = new SvixWebhook(SECRET);
  const sw = new StandardWebhook(SECRET);
  const swBody = fc.tuple(eventObject, indent).map(([e, ind]) => JSON.stringify({ type: e.type, data: e.data, object: "event" }, null, ind));

  it("clerk: verifies svix-signed requests under svix-* headers and signs what svix verifies", async () => {
    const scheme = clerk({ secret: SECRET, crypto: impl });
    await fc.assert(
      fc.asyncProperty(swBody, fc.nat(), async (body, index) => {
        const now = new Date();
        const id = `msg_${index}`;
        const signature = svix.sign(id, now, body);
        const headers = { "svix-id": id, "svix-timestamp": String(Math.floor(now.getTime() / 1000)), "svix-signature": signature };
        const verified = await verifyWebhook({ body, headers }, scheme);
        expect(verified).toMatchObject({ id, type: JSON.parse(body).type, scheme: "clerk" });
        const ours = await signWebhook(body, scheme, { id });
        expect(Object.keys(ours).sort()).toEqual(["content-type", "svix-id", "svix-signature", "svix-timestamp"]);
        expect(svix.verify(body, ours)).toEqual(JSON.parse(body));
        // Clerk requires the svix-* names: the unbranded ones are not read.
        await expectFailure(scheme, { body, headers: { "webhook-id": id, "webhook-timestamp": headers["svix-timestamp"], "webhook-signature": signature } }, "missing_header");
        await expectFailure(scheme, { body: flip(body, index), headers }, "signature_mismatch");
        await expectFailure(clerk({ secret: OTHER, crypto: impl }), { body, headers }, "signature_mismatch");
      }),
      RUNS,
    );
  });

  it("resend: verifies standardwebhooks-signed requests under svix-* or webhook-* names and signs svix-*", async () => {
    const scheme = resend({ secret: SECRET, crypto: impl });
    await fc.assert(
      fc.asyncProperty(swBody, fc.boolean(), async (body, branded) => {
        const now = new Date();
        const id = "msg_resend";
        const ts = String(Math.floor(now.getTime() / 1000));
        const signature = sw.sign(id, now, body);
        const headers = branded ? { "svix-id": id, "svix-timestamp": ts, "svix-signature": signature } : { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature };
        await expect(verifyWebhook({ body, headers }, scheme)).resolves.toMatchObject({ id, scheme: "resend", type: JSON.parse(body).type });
        const ours = await signWebhook(body, scheme, { id });
        // The resend SDK hands { id, timestamp, signature } to standardwebhooks under webhook-* names.
        expect(sw.verify(body, { "webhook-id": ours["svix-id"]!, "webhook-timestamp": ours["svix-timestamp"]!, "webhook-signature": ours["svix-signature"]! })).toEqual(JSON.parse(body));
      }),
      RUNS,
    );
  });

  it("both keep the ±300 s Standard Webhooks window", async () => {
    const body = JSON.stringify({ type: "user.created" });
    const t = new Date(1_700_000_000_000);
    const headers = { "svix-id": "msg_w", "svix-timestamp": "1700000000", "svix-signature": svix.sign("msg_w", t, body) };
    for (const scheme of [clerk({ secret: SECRET, crypto: impl }), resend({ secret: SECRET, crypto: impl })]) {
      expect((await outcomeOf(scheme, { body, headers }, t.getTime() + 300_000)).ok).toBe(true);
      await expectFailure(scheme, { body, headers }, "timestamp_too_old", t.getTime() + 301_000);
      await expectFailure(scheme, { body, headers }, "timestamp_too_new", t.getTime() - 301_000);
    }
  });
});
