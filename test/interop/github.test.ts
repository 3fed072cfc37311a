// Octokit is the oracle: @octokit/webhooks-methods and @octokit/webhooks sign, we verify;
// we sign, they verify.
import { randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { sign, verify, verifyWithFallback } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { github } from "../../src/schemes/github";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { BODY_SHAPES, CRYPTO_IMPLS, bodyAs, expectCode, jsonBody, tamperBody, tamperHex } from "../helpers/crypto-impls";

const SECRET = "It's a Secret to Everybody ✓";
const OTHER = "another secret";
const RUNS = 100;

const eventName = fc.constantFrom("push", "pull_request", "issues", "ping", "workflow_run");

function headersFor(signature: string, event: string, delivery: string): Record<string, string> {
  return { "X-Hub-Signature-256": signature, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json" };
}

describe.each(CRYPTO_IMPLS)("github interop (crypto: %s)", (impl) => {
  const scheme = github({ secret: SECRET, crypto: impl });
  const octokit = new Webhooks({ secret: SECRET });

  it("verifies what @octokit/webhooks-methods signs; id and type come from the headers", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, eventName, fc.uuid(), fc.constantFrom(...BODY_SHAPES), async ({ body }, event, delivery, shape) => {
        const signature = await sign(SECRET, body);
        const verified = await verifyWebhook({ body: bodyAs(body, shape), headers: headersFor(signature, event, delivery) }, scheme);
        expect(verified.id).toBe(delivery);
        expect(verified.type).toBe(event);
        expect(verified.timestamp).toBeUndefined();
        expect(verified.secretIndex).toBe(0);
        expect(verified.scheme).toBe("github");
        expect(verified.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: RUNS },
    );
  });

  it("verifies what @octokit/webhooks' Webhooks#sign produces", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, async ({ body }) => {
        const signature = await octokit.sign(body);
        const verified = await verifyWebhook({ body, headers: headersFor(signature, "push", "d-1") }, scheme);
        expect(verified.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: RUNS },
    );
  });

  it("signs what both Octokit verifiers accept, with the delivery id and event name given", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, eventName, fc.uuid(), async ({ body }, event, delivery) => {
        const headers = await signWebhook(body, scheme, { id: delivery, type: event });
        expect(headers["x-hub-signature-256"]).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(headers["x-github-delivery"]).toBe(delivery);
        expect(headers["x-github-event"]).toBe(event);
        expect(await verify(SECRET, body, headers["x-hub-signature-256"]!)).toBe(true);
        expect(await octokit.verify(body, headers["x-hub-signature-256"]!)).toBe(true);
        // Not vacuous: the same signature over another body is refused.
        expect(await verify(SECRET, `${body} `, headers["x-hub-signature-256"]!)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("signs a random delivery id when none is given", async () => {
    const headers = await signWebhook("{}", scheme, { type: "ping" });
    expect(headers["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers["x-github-delivery"]).not.toBe((await signWebhook("{}", scheme))["x-github-delivery"]);
  });

  it("rejects every tampered variant of an Octokit-signed request with the exact code", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, fc.nat(), async ({ body }, index) => {
        const signature = await sign(SECRET, body);
        const headers = headersFor(signature, "push", randomUUID());
        await expect(verifyWebhook({ body, headers }, scheme)).resolves.toBeDefined();

        const changed = tamperBody(body, index);
        await expectCode(verifyWebhook({ body: changed, headers }, scheme), "signature_mismatch");
        expect(await verify(SECRET, changed.toString("utf8"), signature)).toBe(false);

        const otherSig = `sha256=${tamperHex(signature.slice("sha256=".length), index)}`;
        await expectCode(verifyWebhook({ body, headers: { ...headers, "X-Hub-Signature-256": otherSig } }, scheme), "signature_mismatch");
        expect(await verify(SECRET, body, otherSig)).toBe(false);

        const wrongSecret = await sign(OTHER, body);
        await expectCode(verifyWebhook({ body, headers: { ...headers, "X-Hub-Signature-256": wrongSecret } }, scheme), "signature_mismatch");
        expect(await verify(SECRET, body, wrongSecret)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("rotates secrets like verifyWithFallback, reporting which secret matched", async () => {
    const rolling = github({ secret: [SECRET, OTHER], crypto: impl });
    await fc.assert(
      fc.asyncProperty(jsonBody, async ({ body }) => {
        const old = await sign(OTHER, body);
        expect(await verifyWithFallback(SECRET, body, old, [OTHER])).toBe(true);
        const verified = await verifyWebhook({ body, headers: headersFor(old, "push", "d") }, rolling);
        expect(verified.secretIndex).toBe(1);
        const current = await verifyWebhook({ body, headers: headersFor(await sign(SECRET, body), "push", "d") }, rolling);
        expect(current.secretIndex).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it("does not accept the legacy SHA-1 header alone", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome." });
    const { createHmac } = await import("node:crypto");
    const sha1 = `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
    await expectCode(verifyWebhook({ body, headers: { "X-Hub-Signature": sha1, "X-GitHub-Event": "ping" } }, scheme), "missing_header");
  });
});
