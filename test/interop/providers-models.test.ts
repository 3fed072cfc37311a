// HMAC providers without an official verifier (Twitch, Zoom, Calendly, Typeform, Intercom,
// Bitbucket, Lemon Squeezy, Sentry, Vercel, GitHub's legacy SHA-1 header). The oracle is
// each provider's documented formula computed with node:crypto, independently of
// hookguard (PROVIDERS.md, the project's provider research notes, lists the sources and their confidence), plus Octokit
// for GitHub's SHA-256 header. The models sign, we verify; we sign, and our header must be
// byte-for-byte the model's; every tampered variant fails with the exact code.
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWebhookReceiver } from "../../src/receiver";
import { bitbucket } from "../../src/schemes/bitbucket";
import { calendly } from "../../src/schemes/calendly";
import { githubLegacy } from "../../src/schemes/github-legacy";
import { intercom } from "../../src/schemes/intercom";
import { lemonSqueezy } from "../../src/schemes/lemon-squeezy";
import { sentry } from "../../src/schemes/sentry";
import { twitch } from "../../src/schemes/twitch";
import { typeform } from "../../src/schemes/typeform";
import { vercel } from "../../src/schemes/vercel";
import { zoom } from "../../src/schemes/zoom";
import { signWebhook } from "../../src/sign";
import type { WebhookScheme } from "../../src/types";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, expectFailure, flip, hmac, outcomeOf, tamperChar, type Impl } from "../fixtures/providers/support";

const T0 = 1_700_000_000;

interface Signed {
  readonly headers: Record<string, string>;
  /** The header carrying the signature, and the encoded signature inside it. */
  readonly sigHeader: string;
  readonly sig: string;
  readonly prefix: string;
  readonly encoding: "hex" | "base64";
}

interface Model {
  readonly name: string;
  make(secret: string | string[], impl: Impl): WebhookScheme<unknown>;
  /** A body in the provider's shape, built from a random event. */
  body(e: { id: string; type: string; data: unknown }): string;
  /** The documented formula: the headers the provider sends. */
  sign(body: string, secret: string, at: { ts: number; id: string; type: string }): Signed;
  /** The id and type a verified request must report. */
  expected(body: string, at: { id: string; type: string }): { id: string | undefined; type: string | undefined };
  /** The signed timestamp, if any (epoch ms). */
  readonly timestamp?: (ts: number) => number;
}

const parse = (body: string) => JSON.parse(body) as Record<string, unknown>;

const MODELS: Model[] = [
  {
    name: "twitch",
    make: (secret, impl) => twitch({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ subscription: { id: e.id, type: "channel.follow", version: "2" }, event: e.data }),
    sign(body, secret, { ts, id, type }) {
      const timestamp = new Date(ts * 1000).toISOString();
      const sig = hmac("sha256", secret, id + timestamp + body, "hex");
      return {
        headers: {
          "Twitch-Eventsub-Message-Id": id,
          "Twitch-Eventsub-Message-Timestamp": timestamp,
          "Twitch-Eventsub-Message-Signature": `sha256=${sig}`,
          "Twitch-Eventsub-Message-Type": "notification",
          "Twitch-Eventsub-Subscription-Type": type,
        },
        sigHeader: "twitch-eventsub-message-signature",
        sig,
        prefix: "sha256=",
        encoding: "hex",
      };
    },
    expected: (_b, { id, type }) => ({ id, type }),
    timestamp: (ts) => ts * 1000,
  },
  {
    name: "zoom",
    make: (secret, impl) => zoom({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ event: e.type, event_ts: T0 * 1000, payload: { account_id: e.id, object: e.data } }),
    sign(body, secret, { ts }) {
      const sig = hmac("sha256", secret, `v0:${ts}:${body}`, "hex");
      return { headers: { "x-zm-request-timestamp": String(ts), "x-zm-signature": `v0=${sig}` }, sigHeader: "x-zm-signature", sig, prefix: "v0=", encoding: "hex" };
    },
    expected: (b) => ({ id: undefined, type: parse(b).event as string }),
    timestamp: (ts) => ts * 1000,
  },
  {
    name: "calendly",
    make: (secret, impl) => calendly({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ event: "invitee.created", created_at: "2024-01-01T00:00:00.000000Z", payload: { uri: e.id, data: e.data } }),
    sign(body, secret, { ts }) {
      const sig = hmac("sha256", secret, `${ts}.${body}`, "hex");
      return { headers: { "Calendly-Webhook-Signature": `t=${ts},v1=${sig}` }, sigHeader: "calendly-webhook-signature", sig, prefix: `t=${ts},v1=`, encoding: "hex" };
    },
    expected: () => ({ id: undefined, type: "invitee.created" }),
    timestamp: (ts) => ts * 1000,
  },
  {
    name: "typeform",
    make: (secret, impl) => typeform({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ event_id: e.id, event_type: "form_response", form_response: e.data }),
    sign(body, secret) {
      const sig = hmac("sha256", secret, body, "base64");
      return { headers: { "Typeform-Signature": `sha256=${sig}` }, sigHeader: "typeform-signature", sig, prefix: "sha256=", encoding: "base64" };
    },
    expected: (b) => ({ id: parse(b).event_id as string, type: "form_response" }),
  },
  {
    name: "intercom",
    make: (secret, impl) => intercom({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ type: "notification_event", id: `notif_${e.id}`, topic: "conversation.user.created", data: { item: e.data } }),
    sign(body, secret) {
      const sig = hmac("sha1", secret, body, "hex");
      return { headers: { "X-Hub-Signature": `sha1=${sig}` }, sigHeader: "x-hub-signature", sig, prefix: "sha1=", encoding: "hex" };
    },
    expected: (b) => ({ id: parse(b).id as string, type: "conversation.user.created" }),
  },
  {
    name: "bitbucket",
    make: (secret, impl) => bitbucket({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ repository: { full_name: e.id }, push: e.data }),
    sign(body, secret, { id, type }) {
      const sig = hmac("sha256", secret, body, "hex");
      return { headers: { "X-Hub-Signature": `sha256=${sig}`, "X-Request-UUID": id, "X-Event-Key": type }, sigHeader: "x-hub-signature", sig, prefix: "sha256=", encoding: "hex" };
    },
    expected: (_b, { id, type }) => ({ id, type }),
  },
  {
    name: "lemon-squeezy",
    make: (secret, impl) => lemonSqueezy({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ meta: { event_name: "order_created", custom_data: e.data }, data: { id: e.id } }),
    sign(body, secret) {
      const sig = hmac("sha256", secret, body, "hex");
      return { headers: { "X-Signature": sig, "X-Event-Name": "order_created" }, sigHeader: "x-signature", sig, prefix: "", encoding: "hex" };
    },
    expected: () => ({ id: undefined, type: "order_created" }),
  },
  {
    name: "sentry",
    make: (secret, impl) => sentry({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ action: "created", installation: { uuid: e.id }, data: { issue: e.data } }),
    // signWebhook's `type` is `resource.action`; the resource travels in its own header.
    sign(body, secret, { ts, id, type }) {
      const sig = hmac("sha256", secret, body, "hex");
      return {
        headers: { "Sentry-Hook-Signature": sig, "Sentry-Hook-Resource": type.split(".")[0]!, "Sentry-Hook-Timestamp": String(ts), "Request-ID": id },
        sigHeader: "sentry-hook-signature",
        sig,
        prefix: "",
        encoding: "hex",
      };
    },
    expected: (_b, { id, type }) => ({ id, type: `${type.split(".")[0]}.created` }),
  },
  {
    name: "vercel",
    make: (secret, impl) => vercel({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ id: e.id, type: "deployment.created", payload: e.data }),
    sign(body, secret) {
      const sig = hmac("sha1", secret, body, "hex");
      return { headers: { "x-vercel-signature": sig }, sigHeader: "x-vercel-signature", sig, prefix: "", encoding: "hex" };
    },
    expected: (b) => ({ id: parse(b).id as string, type: "deployment.created" }),
  },
  {
    name: "github (legacy sha1)",
    make: (secret, impl) => githubLegacy({ secret, crypto: impl }),
    body: (e) => JSON.stringify({ action: "opened", hook_id: e.id, data: e.data }),
    sign(body, secret, { id, type }) {
      const sig = hmac("sha1", secret, body, "hex");
      return { headers: { "X-Hub-Signature": `sha1=${sig}`, "X-GitHub-Delivery": id, "X-GitHub-Event": type }, sigHeader: "x-hub-signature", sig, prefix: "sha1=", encoding: "hex" };
    },
    expected: (_b, { id, type }) => ({ id, type }),
  },
];

const SECRET = "model_interop_secret_0123456789";
const OTHER = "model_interop_other_secret_abcdef";

describe.each(IMPLS)("providers without an SDK verifier, against their documented formula (crypto: %s)", (impl) => {
  describe.each(MODELS)("$name", (model) => {
    const scheme = model.make(SECRET, impl);
    const input = fc.record({ e: eventObject, ts: fc.integer({ min: T0, max: T0 + 86_400 * 365 }), id: fc.uuid(), type: fc.constantFrom("channel.follow", "repo:push", "push", "stream.online") });

    it("verifies what the formula signs, and signs exactly what the formula signs", async () => {
      await fc.assert(
        fc.asyncProperty(input, async ({ e, ts, id, type }) => {
          const body = model.body(e);
          const signed = model.sign(body, SECRET, { ts, id, type });
          const verified = await verifyWebhook({ body, headers: signed.headers }, scheme, { now: ts * 1000 });
          expect({ id: verified.id, type: verified.type }).toEqual(model.expected(body, { id, type }));
          expect(verified.payload).toEqual(JSON.parse(body));
          expect(verified.timestamp?.getTime()).toBe(model.timestamp?.(ts));
          const ours = await signWebhook(body, scheme, { timestamp: ts * 1000, id, type });
          expect(ours[signed.sigHeader]).toBe(signed.headers[Object.keys(signed.headers).find((h) => h.toLowerCase() === signed.sigHeader)!]);
          // And what we signed verifies (with the headers we wrote, nothing else).
          await expect(verifyWebhook({ body, headers: ours }, scheme, { now: ts * 1000 })).resolves.toMatchObject(model.expected(body, { id, type }));
        }),
        { numRuns: INTEROP_RUNS },
      );
    });

    it("rejects a changed body, a changed signature, another secret and a missing header with the exact code", async () => {
      await fc.assert(
        fc.asyncProperty(input, fc.nat(), async ({ e, ts, id, type }, index) => {
          const body = model.body(e);
          const now = ts * 1000;
          const signed = model.sign(body, SECRET, { ts, id, type });
          const key = Object.keys(signed.headers).find((h) => h.toLowerCase() === signed.sigHeader)!;
          const value = signed.headers[key]!;
          await expectFailure(scheme, { body: flip(body, index), headers: signed.headers }, "signature_mismatch", now, [SECRET]);
          const changed = value.replace(signed.sig, tamperChar(signed.sig, index, signed.encoding));
          await expectFailure(scheme, { body, headers: { ...signed.headers, [key]: changed } }, "signature_mismatch", now);
          await expectFailure(scheme, { body, headers: model.sign(body, OTHER, { ts, id, type }).headers }, "signature_mismatch", now);
          const without = { ...signed.headers };
          delete without[key];
          await expectFailure(scheme, { body, headers: without }, "missing_header", now);
          await expectFailure(scheme, { body, headers: { ...signed.headers, [key]: `${signed.prefix}not-a-signature` } }, "malformed_header", now);
          // Rotation: the old secret second still verifies, and says so.
          expect(await outcomeOf(model.make([OTHER, SECRET], impl), { body, headers: signed.headers }, now)).toMatchObject({ ok: true, secretIndex: 1 });
        }),
        { numRuns: INTEROP_RUNS },
      );
    });
  });

  it("twitch: verifies nanosecond RFC 3339 timestamps verbatim, and keeps the ±10 min window", async () => {
    const scheme = twitch({ secret: SECRET, crypto: impl });
    const body = JSON.stringify({ subscription: { type: "channel.follow" }, event: {} });
    const timestamp = "2023-11-14T22:13:20.123456789Z";
    const headers = {
      "twitch-eventsub-message-id": "m-1",
      "twitch-eventsub-message-timestamp": timestamp,
      "twitch-eventsub-message-signature": `sha256=${hmac("sha256", SECRET, `m-1${timestamp}${body}`, "hex")}`,
      "twitch-eventsub-message-type": "notification",
    };
    const at = Date.parse(timestamp);
    expect(await outcomeOf(scheme, { body, headers }, at + 600_000)).toMatchObject({ ok: true, id: "m-1", type: "channel.follow", timestampMs: at });
    await expectFailure(scheme, { body, headers }, "timestamp_too_old", at + 601_000);
    await expectFailure(scheme, { body, headers }, "timestamp_too_new", at - 601_000);
    await expectFailure(scheme, { body, headers: { ...headers, "twitch-eventsub-message-timestamp": "2023-11-14T22:13:20.12345678Z" } }, "signature_mismatch", at);
  });

  it("twitch: a receiver answers the verified webhook_callback_verification with the challenge as text", async () => {
    const scheme = twitch({ secret: SECRET, crypto: impl });
    const receiver = createWebhookReceiver({ scheme });
    const body = JSON.stringify({ challenge: "pogchamp-kappa-360noscope-vohiyo", subscription: { type: "channel.follow" } });
    const headers = await signWebhook(body, scheme, { type: "webhook_callback_verification", id: "m-challenge" });
    expect(headers["twitch-eventsub-message-type"]).toBe("webhook_callback_verification");
    const response = await receiver.receive({ body, headers });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    expect(response.body).toBe("pogchamp-kappa-360noscope-vohiyo");
    // Unverified, the challenge is never echoed.
    const forged = await receiver.receive({ body, headers: { ...headers, "twitch-eventsub-message-signature": `sha256=${"0".repeat(64)}` } });
    expect(forged.status).toBe(401);
    expect(forged.body).not.toContain("pogchamp");
    // A notification is not a handshake.
    const notification = JSON.stringify({ challenge: "x", subscription: { type: "channel.follow" } });
    const signed = await signWebhook(notification, scheme, { type: "channel.follow" });
    expect(scheme.handshake?.(await verifyWebhook({ body: notification, headers: signed }, scheme))).toBeUndefined();
  });

  it("zoom: answers a verified endpoint.url_validation with the encrypted token, and only then", async () => {
    const scheme = zoom({ secret: SECRET, crypto: impl });
    const receiver = createWebhookReceiver({ scheme });
    const plainToken = "qgg8vlvZRS6UYooatFL8Aw";
    const body = JSON.stringify({ payload: { plainToken }, event_ts: 1654503849680, event: "endpoint.url_validation" });
    const headers = await signWebhook(body, scheme);
    const response = await receiver.receive({ body, headers });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ plainToken, encryptedToken: hmac("sha256", SECRET, plainToken, "hex") });
    const forged = await receiver.receive({ body, headers: { ...headers, "x-zm-signature": `v0=${"0".repeat(64)}` } });
    expect(forged.status).toBe(401);
    expect(forged.body).not.toContain(hmac("sha256", SECRET, plainToken, "hex"));
  });

  it("zoom: reads a 13-digit timestamp as milliseconds and a shorter one as seconds", async () => {
    const scheme = zoom({ secret: SECRET, crypto: impl });
    const body = JSON.stringify({ event: "meeting.started", payload: {} });
    for (const raw of [String(T0), String(T0 * 1000 + 123)]) {
      const headers = { "x-zm-request-timestamp": raw, "x-zm-signature": `v0=${hmac("sha256", SECRET, `v0:${raw}:${body}`, "hex")}` };
      const at = raw.length >= 13 ? Number(raw) : Number(raw) * 1000;
      expect(await outcomeOf(scheme, { body, headers }, at + 300_000)).toMatchObject({ ok: true, type: "meeting.started", timestampMs: at });
      await expectFailure(scheme, { body, headers }, "timestamp_too_old", at + 301_000);
      await expectFailure(scheme, { body, headers }, "timestamp_too_new", at - 301_000);
    }
    await expectFailure(scheme, { body, headers: { "x-zm-signature": `v0=${"0".repeat(64)}` } }, "timestamp_missing");
  });

  it("github legacy: judged on X-Hub-Signature-256 alone when present (Octokit agrees), SHA-1 only as a fallback", async () => {
    const scheme = githubLegacy({ secret: SECRET, crypto: impl });
    const body = JSON.stringify({ action: "opened" });
    const sha256 = await octokitSign(SECRET, body);
    const sha1 = `sha1=${hmac("sha1", SECRET, body, "hex")}`;
    const base = { "x-github-delivery": "d-1", "x-github-event": "pull_request" };
    expect(await outcomeOf(scheme, { body, headers: { ...base, "x-hub-signature-256": sha256, "x-hub-signature": sha1 } })).toMatchObject({ ok: true, id: "d-1", type: "pull_request" });
    expect(await outcomeOf(scheme, { body, headers: { ...base, "x-hub-signature": sha1 } })).toMatchObject({ ok: true });
    // A bad SHA-256 is not rescued by a good SHA-1.
    await expectFailure(scheme, { body, headers: { ...base, "x-hub-signature-256": `sha256=${"0".repeat(64)}`, "x-hub-signature": sha1 } }, "signature_mismatch");
    const ours = await signWebhook(body, scheme, { id: "d-2", type: "push" });
    expect(await octokitVerify(SECRET, body, ours["x-hub-signature-256"]!)).toBe(true);
    expect(ours["x-hub-signature"]).toBe(sha1);
  });
});
