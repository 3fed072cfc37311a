// sign → verify round trips: whatever a scheme signs, it verifies, on both crypto paths,
// for any body shape, id, timestamp inside the window, and secret list (rotation).
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, it } from "vitest";
import type { WebhookRequest } from "../../src/types";
import { verifyWebhook } from "../../src/verify";
import {
  BODY_SHAPES,
  bodyAs,
  expectBe,
  expectEqual,
  expectedOk,
  idArb,
  inWindow,
  matrix,
  methodArb,
  nonJsonBody,
  nowArb,
  params,
  propTimeout,
  requestOf,
  requestOutcome,
  secretList,
  signRequest,
  slackJsonText,
  jsonText,
  toleranceArb,
  urlArb,
  verifyOutcome,
  webhookOutcome,
  type SchemeCase,
  type Sent,
} from "./support";

/** A clock, a tolerance and a signed timestamp inside the window. */
function clockArb(c: SchemeCase) {
  return fc.tuple(nowArb, toleranceArb).chain(([now, tolerance]) => inWindow(now, tolerance, c.timestamp?.unit).map((timestampMs) => ({ now, tolerance, timestampMs })));
}

function sentArb(c: SchemeCase, timestampMs: number): fc.Arbitrary<Sent> {
  return fc.record({ id: idArb, type: fc.string({ unit: "grapheme", maxLength: 30 }), timestampMs: fc.constant(timestampMs), url: urlArb, method: methodArb });
}

describe.each(matrix())("round trip: %s (%s crypto)", (_label, impl, c) => {
  const bodies = c.name === "slack" ? slackJsonText : jsonText;

  it("verifies what it signed, in every body shape, and reports id, type, timestamp and payload", async () => {
    await fc.assert(
      fc.asyncProperty(
        c.secret,
        bodies,
        fc.constantFrom("string", "bytes"),
        fc.constantFrom(...BODY_SHAPES),
        fc.boolean(),
        clockArb(c).chain((clock) => sentArb(c, clock.timestampMs).map((sent) => ({ clock, sent }))),
        async (secret, text, signShape, verifyShape, toleranceOnCall, { clock, sent }) => {
          // The tolerance comes either from the scheme or from the call's override.
          const scheme = c.make(secret, impl, toleranceOnCall ? undefined : clock.tolerance);
          const options = { now: clock.now, ...(toleranceOnCall && c.timestamp ? { toleranceSeconds: clock.tolerance } : {}) };
          const signed = await signRequest(c, scheme, signShape === "string" ? text : Buffer.from(text, "utf8"), sent);
          const body = bodyAs(text, verifyShape);
          const expected = expectedOk(c, signed, 0);
          expectBe(expected.ok, true);

          const request = requestOf(signed, signed.headers, body);
          const event = await verifyWebhook(request as WebhookRequest, scheme, options);
          expectEqual(webhookOutcome(event), expected);
          expectEqual(await requestOutcome(scheme, request, options), expected);
          // rawBody is the body as passed in: the same string, the same view, or a view of the ArrayBuffer.
          if (typeof body === "string") expectBe(event.rawBody, body);
          else if (body instanceof ArrayBuffer) expectBe(Buffer.from(event.rawBody as Uint8Array).equals(Buffer.from(body)), true);
          else expectBe(event.rawBody, body);
        },
      ),
      params(),
    );
  }, propTimeout(0.57));

  it("rotation: a list [a, b, …] signs with a; [b, a] verifies with secretIndex 1, any order with a's index, and without a nothing matches", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretList(c, 2, 4).chain((secrets) => fc.tuple(fc.constant(secrets), fc.shuffledSubarray(secrets, { minLength: secrets.length, maxLength: secrets.length }))),
        bodies,
        clockArb(c).chain((clock) => sentArb(c, clock.timestampMs).map((sent) => ({ clock, sent }))),
        async ([secrets, reordered], text, { clock, sent }) => {
          const [a, b] = secrets as [string, string, ...string[]];
          const signed = await signRequest(c, c.make(secrets, impl, clock.tolerance), text, sent);
          const options = { now: clock.now };
          const swapped = await verifyOutcome(c.make([b, a], impl, clock.tolerance), requestOf(signed), options);
          expectEqual(swapped, expectedOk(c, signed, 1));
          expectEqual(await verifyOutcome(c.make(reordered, impl, clock.tolerance), requestOf(signed), options), expectedOk(c, signed, reordered.indexOf(a)));
          expectEqual(await verifyOutcome(c.make(secrets.slice(1), impl, clock.tolerance), requestOf(signed), options), { ok: false, code: "signature_mismatch" });
        },
      ),
      params(),
    );
  }, propTimeout(1.2));

  it("a body that is not JSON fails with invalid_json, after a valid signature", async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, nonJsonBody, fc.constantFrom(...BODY_SHAPES), clockArb(c), async (secret, raw, shape, clock) => {
        const scheme = c.make(secret, impl, clock.tolerance);
        const sent: Sent = { id: "msg_invalid_json", type: "t", timestampMs: clock.timestampMs, url: "https://example.com/hook", method: undefined };
        const signed = await signRequest(c, scheme, raw, sent);
        // Bytes that are not UTF-8 have no string form carrying the same bytes: they stay bytes.
        const body = typeof raw !== "string" && shape === "string" ? bodyAs(raw, "uint8array") : bodyAs(raw, shape);
        const expected = { ok: false, code: "invalid_json" };
        expectEqual(await verifyOutcome(scheme, requestOf(signed, signed.headers, body), { now: clock.now }), expected);
        expectEqual(await requestOutcome(scheme, requestOf(signed, signed.headers, body), { now: clock.now }), expected);
      }),
      params(),
    );
  }, propTimeout(0.51));
});
