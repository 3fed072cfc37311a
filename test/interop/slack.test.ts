// Slack: no Slack SDK is installed, so the oracle is Slack's own worked example from
// "Verifying requests from Slack" (also python-slack-sdk's signature test), and for other
// bodies the documented formula computed with node:crypto:
//   X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body))
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { slack } from "../../src/schemes/slack";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { BODY_SHAPES, CRYPTO_IMPLS, bodyAs, expectCode, jsonBody, tamperBody, tamperHex } from "../helpers/crypto-impls";

// Slack's documented example, verbatim.
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TIMESTAMP = 1531420618;
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const FORM = "application/x-www-form-urlencoded";
const RUNS = 100;

function slackSignature(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:`).update(body).digest("hex")}`;
}

function headers(signature: string, timestamp: number | string, contentType: string): Record<string, string> {
  return { "X-Slack-Signature": signature, "X-Slack-Request-Timestamp": String(timestamp), "Content-Type": contentType };
}

describe.each(CRYPTO_IMPLS)("slack interop (crypto: %s)", (impl) => {
  const scheme = slack({ secret: DOC_SECRET, crypto: impl });
  const docRequest = { body: DOC_BODY, headers: headers(DOC_SIGNATURE, DOC_TIMESTAMP, FORM) };
  const docNow = DOC_TIMESTAMP * 1000;

  it("verifies Slack's documented slash command and parses its form body", async () => {
    const event = await verifyWebhook(docRequest, scheme, { now: docNow });
    expect(event.type).toBe("slash_command");
    expect(event.id).toBe("398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
    expect(event.timestamp?.getTime()).toBe(docNow);
    expect(event.secretIndex).toBe(0);
    expect(event.payload).toMatchObject({
      command: "/webhook-collect",
      text: "",
      team_id: "T1DC2JH3J",
      user_name: "roadrunner",
      response_url: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
    });
  });

  it("verifies the documented example in every body shape", async () => {
    for (const shape of BODY_SHAPES) {
      await expect(verifyWebhook({ ...docRequest, body: bodyAs(DOC_BODY, shape) }, scheme, { now: docNow })).resolves.toMatchObject({ type: "slash_command" });
    }
  });

  it("signs the documented example to exactly Slack's documented signature", async () => {
    const signed = await signWebhook(DOC_BODY, scheme, { timestamp: docNow, contentType: FORM });
    expect(signed["x-slack-signature"]).toBe(DOC_SIGNATURE);
    expect(signed["x-slack-request-timestamp"]).toBe(String(DOC_TIMESTAMP));
    expect(signed["content-type"]).toBe(FORM);
  });

  it("rejects the documented example once tampered, with the exact code", async () => {
    await expectCode(verifyWebhook({ ...docRequest, body: `${DOC_BODY}------` }, scheme, { now: docNow }), "signature_mismatch");
    await expectCode(verifyWebhook({ ...docRequest, headers: headers(DOC_SIGNATURE, DOC_TIMESTAMP + 1, FORM) }, scheme, { now: docNow }), "signature_mismatch");
    await expectCode(verifyWebhook({ ...docRequest, headers: headers(`v0=${tamperHex(DOC_SIGNATURE.slice(3), 7)}`, DOC_TIMESTAMP, FORM) }, scheme, { now: docNow }), "signature_mismatch");
    await expectCode(verifyWebhook(docRequest, slack({ secret: "8f742231b10e8888abcd99yyyzzz85a6", crypto: impl }), { now: docNow }), "signature_mismatch");
    // Slack's docs: a request older than five minutes is refused (python-slack-sdk also refuses the future).
    await expectCode(verifyWebhook(docRequest, scheme, { now: docNow + 301_000 }), "timestamp_too_old");
    await expectCode(verifyWebhook(docRequest, scheme, { now: docNow - 301_000 }), "timestamp_too_new");
    // Only the v0 version exists.
    await expectCode(verifyWebhook({ ...docRequest, headers: headers(`v1=${DOC_SIGNATURE.slice(3)}`, DOC_TIMESTAMP, FORM) }, scheme, { now: docNow }), "malformed_header");
  });

  it("verifies an Events API callback (JSON) and routes on the inner event type", async () => {
    const body = JSON.stringify({
      token: "XXYYZZ",
      team_id: "T123ABC456",
      api_app_id: "A123ABC456",
      event: { type: "app_mention", user: "U123ABC456", text: "<@U0LAN0Z89> is it everything a river should be? 🌊", ts: "1515449522.000016", channel: "C123ABC456" },
      type: "event_callback",
      event_id: "Ev123ABC456",
      event_time: 1515449522,
    });
    const ts = 1_700_000_000;
    const request = { body, headers: headers(slackSignature(DOC_SECRET, ts, body), ts, "application/json") };
    const event = await verifyWebhook(request, scheme, { now: ts * 1000 });
    expect(event.type).toBe("app_mention");
    expect(event.id).toBe("Ev123ABC456");
    expect(event.payload).toEqual(JSON.parse(body));
  });

  it("verifies an interactivity form and hands over the parsed inner payload", async () => {
    const inner = {
      type: "block_actions",
      trigger_id: "13345224609.738474920.8088930838d88f008e0",
      user: { id: "U123ABC456", username: "jdoe" },
      actions: [{ action_id: "approve", value: "ünïcødé ✓", type: "button" }],
      response_url: "https://hooks.slack.com/actions/T123ABC456/123/abc",
    };
    const body = new URLSearchParams({ payload: JSON.stringify(inner) }).toString();
    const ts = 1_700_000_123;
    const request = { body, headers: headers(slackSignature(DOC_SECRET, ts, body), ts, `${FORM}; charset=utf-8`) };
    const event = await verifyWebhook(request, scheme, { now: ts * 1000 });
    expect(event.type).toBe("block_actions");
    expect(event.id).toBe(inner.trigger_id);
    expect(event.payload).toEqual(inner);
  });

  it("verifies random JSON bodies signed with the documented formula, and rejects tampered ones", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), fc.nat(), fc.constantFrom(...BODY_SHAPES), async ({ body }, ts, index, shape) => {
        const signature = slackSignature(DOC_SECRET, ts, body);
        const now = ts * 1000;
        const good = headers(signature, ts, "application/json");
        const event = await verifyWebhook({ body: bodyAs(body, shape), headers: good }, scheme, { now });
        expect(event.payload).toEqual(JSON.parse(body));
        expect(event.timestamp?.getTime()).toBe(now);

        await expectCode(verifyWebhook({ body: tamperBody(body, index), headers: good }, scheme, { now }), "signature_mismatch");
        await expectCode(verifyWebhook({ body, headers: headers(signature, ts + 1, "application/json") }, scheme, { now }), "signature_mismatch");
        await expectCode(verifyWebhook({ body, headers: headers(`v0=${tamperHex(signature.slice(3), index)}`, ts, "application/json") }, scheme, { now }), "signature_mismatch");
        await expectCode(verifyWebhook({ body, headers: headers(slackSignature("another-secret", ts, body), ts, "application/json") }, scheme, { now }), "signature_mismatch");
      }),
      { numRuns: RUNS },
    );
  });

  it("signs random bodies exactly as the documented formula does", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), async ({ body }, ts) => {
        const signed = await signWebhook(body, scheme, { timestamp: ts * 1000 });
        expect(signed["x-slack-signature"]).toBe(slackSignature(DOC_SECRET, ts, body));
        expect(signed["x-slack-request-timestamp"]).toBe(String(ts));
      }),
      { numRuns: RUNS },
    );
  });
});
