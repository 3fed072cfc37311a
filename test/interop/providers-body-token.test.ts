// Mailgun (signature fields inside the body; the body itself unsigned) and GitLab (a
// secret token echoed in a header). Oracles: mailgun-php's published test vector and
// Mailgun's documented formula in node:crypto; GitLab's documented header.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWebhookReceiver } from "../../src/receiver";
import { memoryStore } from "../../src/stores/memory";
import { gitlab } from "../../src/schemes/gitlab";
import { mailgun, signMailgunBody } from "../../src/schemes/mailgun";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, expectFailure, hmac, outcomeOf, tamperChar } from "../fixtures/providers/support";

const RUNS = { numRuns: INTEROP_RUNS };

describe.each(IMPLS)("mailgun (crypto: %s)", (impl) => {
  const KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
  const scheme = mailgun({ secret: KEY, crypto: impl });
  const token = fc.stringMatching(/^[a-z0-9]{50}$/);

  it("accepts mailgun-php's published vector, in a JSON and in a legacy form webhook", async () => {
    const signature = { timestamp: "1403645220", token: "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6", signature: "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33" };
    const now = 1_403_645_220_000;
    const json = JSON.stringify({ signature, "event-data": { event: "delivered", id: "ev-1" } });
    expect(await outcomeOf(scheme, { body: json, headers: { "content-type": "application/json" } }, now)).toMatchObject({ ok: true, id: signature.token, type: "delivered", timestampMs: now });
    const form = new URLSearchParams({ ...signature, event: "opened", recipient: "a@example.com" }).toString();
    expect(await outcomeOf(scheme, { body: form, headers: { "content-type": "application/x-www-form-urlencoded" } }, now)).toMatchObject({ ok: true, type: "opened" });
    // mailgun-php's "bad" vector: another token under the same signature.
    const bad = JSON.stringify({ signature: { ...signature, token: "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr" }, "event-data": {} });
    await expectFailure(scheme, { body: bad, headers: {} }, "signature_mismatch", now, [KEY]);
  });

  it("verifies the documented formula, and signMailgunBody produces it", async () => {
    await fc.assert(
      fc.asyncProperty(eventObject, token, fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), async (e, tok, ts) => {
        const body = JSON.stringify({ signature: { timestamp: String(ts), token: tok, signature: hmac("sha256", KEY, `${ts}${tok}`, "hex") }, "event-data": { event: e.type, id: e.id, data: e.data } });
        expect(await outcomeOf(scheme, { body, headers: { "content-type": "application/json" } }, ts * 1000)).toMatchObject({ ok: true, id: tok, type: e.type });
        const ours = JSON.parse(await signMailgunBody({ event: e.type }, { secret: KEY, timestamp: ts * 1000, token: tok, crypto: impl }));
        expect(ours.signature).toEqual(JSON.parse(body).signature);
        await expect(signWebhook(body, scheme)).rejects.toThrow(/signMailgunBody/);
      }),
      RUNS,
    );
  });

  it("proves the (timestamp, token) pair, NOT the body: a changed event still verifies; changed signature fields do not", async () => {
    await fc.assert(
      fc.asyncProperty(eventObject, token, fc.nat(), async (e, tok, index) => {
        const now = 1_700_000_000_000;
        const signed = JSON.parse(await signMailgunBody({ event: "delivered", id: e.id }, { secret: KEY, timestamp: now, token: tok, crypto: impl }));
        // The event data is not covered: this is Mailgun's design, and why the token is the idempotency key.
        const forgedEvent = JSON.stringify({ ...signed, "event-data": { event: "complained", id: "someone-else", data: e.data } });
        expect(await outcomeOf(scheme, { body: forgedEvent, headers: {} }, now)).toMatchObject({ ok: true, id: tok, type: "complained" });
        const sig = signed.signature;
        const withSig = (s: object) => JSON.stringify({ ...signed, signature: { ...sig, ...s } });
        await expectFailure(scheme, { body: withSig({ token: `${tok.slice(1)}x` }), headers: {} }, "signature_mismatch", now);
        await expectFailure(scheme, { body: withSig({ signature: tamperChar(sig.signature, index, "hex") }), headers: {} }, "signature_mismatch", now);
        await expectFailure(scheme, { body: withSig({ timestamp: String(now / 1000 + 1) }), headers: {} }, "signature_mismatch", now);
        await expectFailure(scheme, { body: withSig({ signature: "xyz" }), headers: {} }, "malformed_header", now);
        await expectFailure(scheme, { body: JSON.stringify({ "event-data": {} }), headers: {} }, "missing_header", now);
        await expectFailure(scheme, { body: withSig({ timestamp: undefined }), headers: {} }, "timestamp_missing", now);
        await expectFailure(scheme, { body: withSig({ token: undefined }), headers: {} }, "missing_header", now);
        await expectFailure(scheme, { body: "{not json", headers: {} }, "invalid_json", now);
        await expectFailure(scheme, { body: JSON.stringify(signed), headers: {} }, "timestamp_too_old", now + 301_000);
        await expectFailure(scheme, { body: JSON.stringify(signed), headers: {} }, "timestamp_too_new", now - 301_000);
      }),
      RUNS,
    );
  });

  it("with a receiver, a captured signature is accepted once: a replay with another body is a duplicate", async () => {
    const now = Date.now();
    const receiver = createWebhookReceiver({ scheme, store: memoryStore() });
    const seen: unknown[] = [];
    receiver.onAny((event) => {
      seen.push(event.payload);
    });
    const signed = JSON.parse(await signMailgunBody({ event: "delivered", id: "ev-1" }, { secret: KEY, timestamp: now, crypto: impl }));
    expect((await receiver.receive({ body: JSON.stringify(signed), headers: {} })).status).toBeLessThan(300);
    const replay = JSON.stringify({ ...signed, "event-data": { event: "delivered", id: "forged" } });
    expect((await receiver.receive({ body: replay, headers: {} })).status).toBeLessThan(300);
    expect(seen).toHaveLength(1);
  });
});

describe.each(IMPLS)("gitlab (crypto: %s)", (impl) => {
  const TOKEN = "glpat-like-webhook-secret-token-0123";
  const scheme = gitlab({ secret: TOKEN, crypto: impl });

  it("accepts the configured token, reads GitLab's id and event headers, and signs them", async () => {
    await fc.assert(
      fc.asyncProperty(eventObject, fc.uuid(), fc.boolean(), async (e, uuid, modern) => {
        const body = JSON.stringify({ object_kind: "push", ref: e.id, data: e.data });
        const headers: Record<string, string> = { "X-Gitlab-Token": TOKEN, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": `uuid-${uuid}` };
        if (modern) headers["Idempotency-Key"] = uuid;
        const verified = await verifyWebhook({ body, headers }, scheme);
        expect(verified).toMatchObject({ id: modern ? uuid : `uuid-${uuid}`, type: "Push Hook", scheme: "gitlab", payload: JSON.parse(body) });
        const ours = await signWebhook(body, scheme, { id: uuid, type: "Push Hook" });
        expect(ours).toMatchObject({ "x-gitlab-token": TOKEN, "x-gitlab-event": "Push Hook", "idempotency-key": uuid });
        await expect(verifyWebhook({ body, headers: ours }, scheme)).resolves.toMatchObject({ id: uuid });
      }),
      RUNS,
    );
  });

  it("rejects any other token, of any length, in constant time (equal-length digests), never echoing it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }).filter((t) => t !== TOKEN), async (token) => {
        await expectFailure(scheme, { body: "{}", headers: { "x-gitlab-token": token } }, "signature_mismatch", undefined, [TOKEN]);
      }),
      RUNS,
    );
    await expectFailure(scheme, { body: "{}", headers: { "x-gitlab-token": `${TOKEN} ` } }, "signature_mismatch");
    await expectFailure(scheme, { body: "{}", headers: { "x-gitlab-token": TOKEN.slice(0, -1) } }, "signature_mismatch");
    await expectFailure(scheme, { body: "{}", headers: {} }, "missing_header");
    expect(await outcomeOf(gitlab({ secret: ["old-token", TOKEN], crypto: impl }), { body: "{}", headers: { "x-gitlab-token": TOKEN } })).toMatchObject({ ok: true, secretIndex: 1 });
  });
});
