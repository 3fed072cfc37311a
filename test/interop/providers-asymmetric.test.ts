// Public-key providers. Discord: discord-interactions' verifyKey is the oracle (it has no
// signer; node:crypto's Ed25519 plays Discord). SendGrid: @sendgrid/eventwebhook verifies,
// and starkbank-ecdsa (the library it verifies with) and node:crypto sign. Standard
// Webhooks v1a: no official library implements it; node:crypto signs per the spec.
// Both crypto paths every time, and they must agree on malformed input too.
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { EventWebhook } from "@sendgrid/eventwebhook";
import { verifyKey } from "discord-interactions";
import fc from "fast-check";
// starkbank-ecdsa ships no types; it is what @sendgrid/eventwebhook signs and verifies with.
// @ts-expect-error -- untyped CommonJS module
import starkbank from "starkbank-ecdsa";
import { describe, expect, it } from "vitest";
import { createWebhookReceiver } from "../../src/receiver";
import { discord } from "../../src/schemes/discord";
import { sendgrid } from "../../src/schemes/sendgrid";
import { standardWebhooksAsymmetric } from "../../src/schemes/standard-webhooks-asymmetric";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, ed25519Pair, expectFailure, flip, outcomeOf, p256Pair, sameOnBoth, tamperChar } from "../fixtures/providers/support";

const RUNS = { numRuns: INTEROP_RUNS };
const T0 = 1_700_000_000;
const indent = fc.constantFrom(0, 2, "\t");

interface Starkbank {
  PrivateKey: { fromPem(pem: string): unknown };
  Ecdsa: { sign(message: string, key: unknown): { toBase64(): string } };
}
const stark = starkbank as Starkbank;

// ---------------------------------------------------------------------------------------
// Discord

describe.each(IMPLS)("discord interop (crypto: %s)", (impl) => {
  const app = ed25519Pair();
  const other = ed25519Pair();
  const scheme = discord({ publicKey: app.publicHex, privateKey: app.seedHex, crypto: impl });
  const interaction = fc.tuple(eventObject, fc.integer({ min: 2, max: 5 }), indent).map(([e, type, ind]) =>
    JSON.stringify({ id: e.id, application_id: "1", type, token: `tok_${e.id}`, data: e.data, version: 1 }, null, ind),
  );
  const discordSign = (body: string | Buffer, timestamp: string, key = app.privateKey) => nodeSign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString("hex");

  it("signs what verifyKey accepts (string and Buffer bodies), and verifies what Discord's key signs", async () => {
    await fc.assert(
      fc.asyncProperty(interaction, fc.integer({ min: T0, max: T0 + 86_400 * 365 }), async (body, ts) => {
        const headers = await signWebhook(body, scheme, { timestamp: ts * 1000 });
        expect(headers["x-signature-ed25519"]).toMatch(/^[0-9a-f]{128}$/);
        expect(await verifyKey(body, headers["x-signature-ed25519"]!, headers["x-signature-timestamp"]!, app.publicHex)).toBe(true);
        expect(await verifyKey(Buffer.from(body), headers["x-signature-ed25519"]!, headers["x-signature-timestamp"]!, app.publicHex)).toBe(true);
        const sig = discordSign(body, String(ts));
        const verified = await verifyWebhook({ body, headers: { "X-Signature-Ed25519": sig, "X-Signature-Timestamp": String(ts) } }, scheme, { now: ts * 1000 });
        const parsed = JSON.parse(body);
        expect(verified).toMatchObject({ id: parsed.id, scheme: "discord", secretIndex: 0 });
        expect(verified.type).toBe(["APPLICATION_COMMAND", "MESSAGE_COMPONENT", "APPLICATION_COMMAND_AUTOCOMPLETE", "MODAL_SUBMIT"][parsed.type - 2]);
      }),
      RUNS,
    );
  });

  it("answers every tampered variant with 401, as Discord requires, and verifyKey agrees", async () => {
    await fc.assert(
      fc.asyncProperty(interaction, fc.nat(), async (body, index) => {
        const ts = String(T0);
        const sig = discordSign(body, ts);
        const now = T0 * 1000;
        const variants: [string | Buffer, string, string][] = [
          [flip(body, index), sig, ts],
          [body, tamperChar(sig, index, "hex"), ts],
          [body, sig, String(T0 + 1)],
          [body, discordSign(body, ts, other.privateKey), ts],
        ];
        for (const [b, s, t] of variants) {
          const o = await outcomeOf(scheme, { body: b, headers: { "x-signature-ed25519": s, "x-signature-timestamp": t } }, now);
          expect(o).toMatchObject({ ok: false, code: "signature_mismatch" });
          expect(await verifyKey(b, s, t, app.publicHex)).toBe(false);
        }
        // Missing and malformed headers answer 401 too (Discord's own middleware does the same).
        for (const headers of <Record<string, string>[]>[{ "x-signature-timestamp": ts }, { "x-signature-ed25519": sig }, { "x-signature-ed25519": "zz", "x-signature-timestamp": ts }, { "x-signature-ed25519": sig.slice(2), "x-signature-timestamp": ts }]) {
          await expectFailure(scheme, { body, headers }, "signature_mismatch", now);
        }
        await expect(verifyWebhook({ body: flip(body, index), headers: { "x-signature-ed25519": sig, "x-signature-timestamp": ts } }, scheme, { now })).rejects.toMatchObject({ status: 401 });
      }),
      RUNS,
    );
  });

  it("answers a verified interaction PING with { type: 1 } and a webhook-event PING with 204", async () => {
    const receiver = createWebhookReceiver({ scheme });
    const ping = JSON.stringify({ id: "1", application_id: "2", type: 1, token: "t", version: 1 });
    const pong = await receiver.receive({ body: ping, headers: await signWebhook(ping, scheme) });
    expect(pong.status).toBe(200);
    expect(JSON.parse(pong.body)).toEqual({ type: 1 });
    const eventPing = JSON.stringify({ version: 1, application_id: "2", type: 0 });
    expect((await receiver.receive({ body: eventPing, headers: await signWebhook(eventPing, scheme) })).status).toBe(204);
    // A webhook EVENT is type 1 too, but carries no token: not a PING.
    const event = JSON.stringify({ version: 1, application_id: "2", type: 1, event: { type: "APPLICATION_AUTHORIZED", timestamp: "2024-01-01T00:00:00Z", data: {} } });
    const verified = await verifyWebhook({ body: event, headers: await signWebhook(event, scheme) }, scheme);
    expect(verified.type).toBe("APPLICATION_AUTHORIZED");
    expect(scheme.handshake?.(verified)).toBeUndefined();
    // A forged PING gets 401, never a PONG.
    const forged = await receiver.receive({ body: ping, headers: { "x-signature-ed25519": "0".repeat(128), "x-signature-timestamp": String(Math.floor(Date.now() / 1000)) } });
    expect(forged.status).toBe(401);
  });

  it("keeps a ±300 s window by default; Infinity treats the timestamp as opaque, as verifyKey does", async () => {
    const body = JSON.stringify({ id: "1", type: 2, token: "t" });
    const headers = { "x-signature-ed25519": discordSign(body, String(T0)), "x-signature-timestamp": String(T0) };
    await expectFailure(scheme, { body, headers }, "timestamp_too_old", (T0 + 301) * 1000);
    await expectFailure(scheme, { body, headers }, "timestamp_too_new", (T0 - 301) * 1000);
    const opaque = discord({ publicKey: app.publicHex, toleranceSeconds: Number.POSITIVE_INFINITY, crypto: impl });
    const odd = { "x-signature-ed25519": discordSign(body, "not-a-number"), "x-signature-timestamp": "not-a-number" };
    expect(await verifyKey(body, odd["x-signature-ed25519"], odd["x-signature-timestamp"], app.publicHex)).toBe(true);
    expect(await outcomeOf(opaque, { body, headers: odd })).toMatchObject({ ok: true });
    await expectFailure(scheme, { body, headers: odd }, "signature_mismatch");
  });

  it("accepts several public keys and reports which one matched", async () => {
    const both = discord({ publicKey: [other.publicHex, app.publicHex], crypto: impl });
    const body = JSON.stringify({ id: "1", type: 2, token: "t" });
    expect(await outcomeOf(both, { body, headers: { "x-signature-ed25519": discordSign(body, String(T0)), "x-signature-timestamp": String(T0) } }, T0 * 1000)).toMatchObject({ ok: true, secretIndex: 1 });
  });
});

// ---------------------------------------------------------------------------------------
// SendGrid

describe.each(IMPLS)("sendgrid interop (crypto: %s)", (impl) => {
  const pair = p256Pair();
  const other = p256Pair();
  const sdk = new EventWebhook();
  const sdkKey = sdk.convertPublicKeyToECDSA(pair.spkiBase64);
  const scheme = sendgrid({ publicKey: pair.spkiBase64, privateKey: pair.pkcs8Base64, crypto: impl });
  const starkKey = stark.PrivateKey.fromPem(createPrivateKey(pair.pkcs8Pem).export({ format: "pem", type: "sec1" }).toString());
  const batch = fc.tuple(fc.array(eventObject, { minLength: 1, maxLength: 4 }), indent).map(([events, ind]) =>
    JSON.stringify(events.map((e) => ({ email: "a@example.com", timestamp: T0, event: "delivered", sg_event_id: e.id, note: e.data.text })), null, ind),
  );

  it("signs what EventWebhook.verifySignature accepts", async () => {
    await fc.assert(
      fc.asyncProperty(batch, async (body) => {
        const headers = await signWebhook(body, scheme, { timestamp: T0 * 1000 });
        const sig = headers["x-twilio-email-event-webhook-signature"]!;
        const ts = headers["x-twilio-email-event-webhook-timestamp"]!;
        expect(sdk.verifySignature(sdkKey, body, sig, ts)).toBe(true);
        expect(sdk.verifySignature(sdkKey, Buffer.from(body), sig, ts)).toBe(true);
        expect(sdk.verifySignature(sdkKey, `${body} `, sig, ts)).toBe(false);
      }),
      RUNS,
    );
  });

  it("verifies what starkbank-ecdsa (the SDK's library) and node:crypto sign", async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.boolean(), async (body, useStark) => {
        const ts = String(T0);
        const sig = useStark ? stark.Ecdsa.sign(ts + body, starkKey).toBase64() : nodeSign("sha256", Buffer.from(ts + body), pair.privateKey).toString("base64");
        expect(sdk.verifySignature(sdkKey, body, sig, ts)).toBe(true);
        const verified = await verifyWebhook({ body, headers: { "X-Twilio-Email-Event-Webhook-Signature": sig, "X-Twilio-Email-Event-Webhook-Timestamp": ts } }, scheme, { now: T0 * 1000 });
        expect(verified).toMatchObject({ id: undefined, type: undefined, scheme: "sendgrid", payload: JSON.parse(body) });
      }),
      RUNS,
    );
  });

  it("rejects tampered variants like the SDK, with the exact code, on both paths alike", async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.nat(), async (body, index) => {
        const ts = String(T0);
        const sig = nodeSign("sha256", Buffer.from(ts + body), pair.privateKey).toString("base64");
        const now = T0 * 1000;
        const make = (i: "node" | "web") => sendgrid({ publicKey: pair.spkiBase64, crypto: i });
        for (const [b, s, t] of [
          [flip(body, index), sig, ts],
          [body, sig, String(T0 + 1)],
          [body, nodeSign("sha256", Buffer.from(ts + body), other.privateKey).toString("base64"), ts],
        ] as const) {
          expect(await sameOnBoth(make, { body: b, headers: { "x-twilio-email-event-webhook-signature": s, "x-twilio-email-event-webhook-timestamp": t } }, now)).toMatchObject({ ok: false, code: "signature_mismatch" });
          expect(sdk.verifySignature(sdkKey, b.toString(), s, t)).toBe(false);
        }
        // Any change to the DER: a mismatch or a malformed signature, never an exception, and the same on both paths.
        const der = Buffer.from(sig, "base64");
        der[index % der.length]! ^= 1 << index % 8;
        const o = await sameOnBoth(make, { body, headers: { "x-twilio-email-event-webhook-signature": der.toString("base64"), "x-twilio-email-event-webhook-timestamp": ts } }, now);
        expect(o.ok).toBe(false);
        expect(["signature_mismatch", "malformed_header"]).toContain((o as { code: string }).code);
      }),
      RUNS,
    );
  });

  it("refuses non-DER signatures, missing headers and stale timestamps with their own codes", async () => {
    const body = "[]";
    const ts = String(T0);
    const sig = nodeSign("sha256", Buffer.from(ts + body), pair.privateKey);
    const p1363 = nodeSign("sha256", Buffer.from(ts + body), { key: pair.privateKey, dsaEncoding: "ieee-p1363" });
    const h = (s: string, t = ts) => ({ "x-twilio-email-event-webhook-signature": s, "x-twilio-email-event-webhook-timestamp": t });
    const now = T0 * 1000;
    await expectFailure(scheme, { body, headers: h(p1363.toString("base64")) }, "malformed_header", now);
    await expectFailure(scheme, { body, headers: h(Buffer.concat([sig, Buffer.of(0)]).toString("base64")) }, "malformed_header", now);
    await expectFailure(scheme, { body, headers: h("not base64!") }, "malformed_header", now);
    await expectFailure(scheme, { body, headers: { "x-twilio-email-event-webhook-timestamp": ts } }, "missing_header", now);
    await expectFailure(scheme, { body, headers: { "x-twilio-email-event-webhook-signature": sig.toString("base64") } }, "timestamp_missing", now);
    await expectFailure(scheme, { body, headers: h(sig.toString("base64")) }, "timestamp_too_old", now + 301_000);
    await expectFailure(scheme, { body, headers: h(sig.toString("base64")) }, "timestamp_too_new", now - 301_000);
    expect(await outcomeOf(sendgrid({ publicKey: [other.spkiPem, pair.spkiPem], crypto: impl }), { body, headers: h(sig.toString("base64")) }, now)).toMatchObject({ ok: true, secretIndex: 1 });
  });
});

// ---------------------------------------------------------------------------------------
// Standard Webhooks v1a

describe.each(IMPLS)("standard webhooks v1a (Ed25519) against the spec (crypto: %s)", (impl) => {
  const pair = ed25519Pair();
  const other = ed25519Pair();
  const scheme = standardWebhooksAsymmetric({ publicKey: pair.whpk, privateKey: pair.whsk, crypto: impl });
  const swBody = fc.tuple(eventObject, indent).map(([e, ind]) => JSON.stringify({ type: e.type, data: e.data }, null, ind));
  const specSign = (id: string, ts: number, body: string, key = pair.privateKey) => `v1a,${nodeSign(null, Buffer.from(`${id}.${ts}.${body}`), key).toString("base64")}`;

  it("verifies spec-signed requests (v1 entries skipped, any v1a may match) and signs the spec's bytes", async () => {
    await fc.assert(
      fc.asyncProperty(swBody, fc.integer({ min: T0, max: T0 + 86_400 * 365 }), fc.boolean(), async (body, ts, svixNames) => {
        const id = `msg_${ts}`;
        const signature = `v1,${Buffer.alloc(32, 7).toString("base64")} ${specSign(id, ts, body, other.privateKey)} ${specSign(id, ts, body)}`;
        const p = svixNames ? "svix-" : "webhook-";
        const verified = await verifyWebhook({ body, headers: { [`${p}id`]: id, [`${p}timestamp`]: String(ts), [`${p}signature`]: signature } }, scheme, { now: ts * 1000 });
        expect(verified).toMatchObject({ id, type: JSON.parse(body).type, scheme: "standard-webhooks" });
        const ours = await signWebhook(body, scheme, { id, timestamp: ts * 1000 });
        expect(ours["webhook-signature"]).toBe(specSign(id, ts, body));
      }),
      RUNS,
    );
  });

  it("rejects tampered variants with the exact code", async () => {
    await fc.assert(
      fc.asyncProperty(swBody, fc.nat(), async (body, index) => {
        const id = "msg_t";
        const sig = specSign(id, T0, body);
        const headers = { "webhook-id": id, "webhook-timestamp": String(T0), "webhook-signature": sig };
        const now = T0 * 1000;
        await expectFailure(scheme, { body: flip(body, index), headers }, "signature_mismatch", now);
        await expectFailure(scheme, { body, headers: { ...headers, "webhook-id": "msg_u" } }, "signature_mismatch", now);
        await expectFailure(scheme, { body, headers: { ...headers, "webhook-signature": `v1a,${tamperChar(sig.slice(4), index, "base64")}` } }, "signature_mismatch", now);
        await expectFailure(scheme, { body, headers: { ...headers, "webhook-signature": specSign(id, T0, body, other.privateKey) } }, "signature_mismatch", now);
        await expectFailure(scheme, { body, headers: { ...headers, "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` } }, "malformed_header", now);
        await expectFailure(scheme, { body, headers: { ...headers, "webhook-timestamp": String(T0 + 1) } }, "signature_mismatch", now);
        await expectFailure(scheme, { body, headers }, "timestamp_too_old", now + 301_000);
        await expectFailure(scheme, { body, headers }, "timestamp_too_new", now - 301_000);
        await expectFailure(scheme, { body, headers: { "webhook-timestamp": String(T0), "webhook-signature": sig } }, "missing_header", now);
      }),
      RUNS,
    );
  });
});
