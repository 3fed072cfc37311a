// No error message may contain a secret, a signature from the request, the signature
// hookguard computed, or the payload. Many random failing requests are built for each
// scheme and every message is scanned for those strings (hex and base64 alike).
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWebhookError, isWebhookVerificationError, WebhookVerificationError } from "../../src/errors";
import { hmacScheme } from "../../src/schemes/hmac";
import { github } from "../../src/schemes/github";
import { shopify } from "../../src/schemes/shopify";
import { slack } from "../../src/schemes/slack";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import type { WebhookScheme } from "../../src/types";
import { verifyWebhook } from "../../src/verify";
import { CRYPTO_IMPLS, type CryptoImpl } from "../helpers/crypto-impls";
import { expectBe, params, propTimeout } from "../property/support";

const T = 1_700_000_000;

interface Provider {
  readonly name: string;
  /** The scheme, from a secret as the user writes it. */
  scheme(secret: string, crypto: CryptoImpl): WebhookScheme;
  /** A user-facing secret derived from random bytes. */
  secret(bytes: Uint8Array): string;
  /** The documented HMAC (node:crypto), in the scheme's encoding, for a body at time T. */
  digest(secret: string, body: string, timestamp?: number): Buffer;
  encode(digest: Buffer): string;
  /** The headers carrying a signature string (already encoded) at time T. */
  headers(signature: string, timestamp?: number): Record<string, string>;
}

const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

const providers: Provider[] = [
  {
    name: "stripe",
    scheme: (secret, crypto) => stripe({ secret, crypto }),
    secret: (b) => `whsec_${Buffer.from(b).toString("hex")}`,
    digest: (secret, body, t = T) => hmac(secret, `${t}.${body}`),
    encode: (d) => d.toString("hex"),
    headers: (sig, t = T) => ({ "stripe-signature": `t=${t},v1=${sig}` }),
  },
  {
    name: "github",
    scheme: (secret, crypto) => github({ secret, crypto }),
    secret: (b) => Buffer.from(b).toString("base64url"),
    digest: (secret, body) => hmac(secret, body),
    encode: (d) => d.toString("hex"),
    headers: (sig) => ({ "x-hub-signature-256": `sha256=${sig}`, "x-github-event": "push", "x-github-delivery": "d-1" }),
  },
  {
    name: "standard-webhooks",
    scheme: (secret, crypto) => standardWebhooks({ secret, crypto }),
    secret: (b) => `whsec_${Buffer.from(b).toString("base64")}`,
    digest: (secret, body, t = T) => hmac(Buffer.from(secret.slice(6), "base64"), `msg_1.${t}.${body}`),
    encode: (d) => d.toString("base64"),
    headers: (sig, t = T) => ({ "webhook-id": "msg_1", "webhook-timestamp": String(t), "webhook-signature": `v1,${sig}` }),
  },
  {
    name: "slack",
    scheme: (secret, crypto) => slack({ secret, crypto }),
    secret: (b) => Buffer.from(b).toString("hex"),
    digest: (secret, body, t = T) => hmac(secret, `v0:${t}:${body}`),
    encode: (d) => d.toString("hex"),
    headers: (sig, t = T) => ({ "x-slack-signature": `v0=${sig}`, "x-slack-request-timestamp": String(t) }),
  },
  {
    name: "shopify",
    scheme: (secret, crypto) => shopify({ secret, crypto }),
    secret: (b) => `shpss_${Buffer.from(b).toString("hex")}`,
    digest: (secret, body) => hmac(secret, body),
    encode: (d) => d.toString("base64"),
    headers: (sig) => ({ "x-shopify-hmac-sha256": sig, "x-shopify-topic": "orders/create", "x-shopify-webhook-id": "w-1" }),
  },
  {
    name: "custom (pairs with ;)",
    scheme: (secret, crypto) =>
      hmacScheme({
        name: "acme",
        secret,
        crypto,
        signature: { header: "acme-signature", pairs: { separator: ";", key: "h1" } },
        timestamp: { signatureKey: "ts", unit: "s" },
        signedContent: "{timestamp}:{body}",
      }),
    secret: (b) => `pdl_ntfset_${Buffer.from(b).toString("hex")}`,
    digest: (secret, body, t = T) => hmac(secret, `${t}:${body}`),
    encode: (d) => d.toString("hex"),
    headers: (sig, t = T) => ({ "acme-signature": `ts=${t};h1=${sig}` }),
  },
];

/** Failing variants of one request, each with the code it must produce. */
function failingCases(p: Provider, secret: string, otherSecret: string, body: string) {
  const good = p.encode(p.digest(secret, body));
  const wrong = p.encode(p.digest(otherSecret, body));
  const notJson = `not json: ${body}`;
  const cases: { label: string; body: string; headers: Record<string, string>; now: number; code: string; computed: Buffer[] }[] = [
    { label: "wrong secret", body, headers: p.headers(wrong), now: T * 1000, code: "signature_mismatch", computed: [p.digest(secret, body)] },
    { label: "tampered body", body: `${body} `, headers: p.headers(good), now: T * 1000, code: "signature_mismatch", computed: [p.digest(secret, `${body} `)] },
    { label: "truncated signature", body, headers: p.headers(good.slice(0, -4)), now: T * 1000, code: "malformed_header", computed: [p.digest(secret, body)] },
    { label: "valid signature, body not JSON", body: notJson, headers: p.headers(p.encode(p.digest(secret, notJson))), now: T * 1000, code: "invalid_json", computed: [p.digest(secret, notJson)] },
  ];
  if (p.scheme("x".repeat(24), "node").toleranceSeconds !== undefined) {
    cases.push({ label: "too old", body, headers: p.headers(good), now: (T + 10_000) * 1000, code: "timestamp_too_old", computed: [p.digest(secret, body)] });
    cases.push({ label: "too new", body, headers: p.headers(good), now: (T - 10_000) * 1000, code: "timestamp_too_new", computed: [p.digest(secret, body)] });
  }
  return cases;
}

function forbidden(secret: string, body: string, headers: Record<string, string>, computed: Buffer[]): string[] {
  const out = [secret];
  if (secret.includes("_")) out.push(secret.slice(secret.lastIndexOf("_") + 1));
  for (const d of computed) out.push(d.toString("hex"), d.toString("base64"), d.toString("base64").replace(/=+$/, ""));
  for (const value of Object.values(headers)) for (const part of value.split(/[\s,;=]+/)) if (part.length >= 16) out.push(part);
  if (body.length >= 12) out.push(body);
  return out.filter((s) => s.length >= 8);
}

describe.each(CRYPTO_IMPLS)("error messages (crypto: %s)", (crypto) => {
  it.each(providers.map((p) => [p.name, p] as const))("%s: never contain a secret, a signature or the payload", async (_name, p) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 24, maxLength: 48 }), fc.uint8Array({ minLength: 24, maxLength: 48 }), fc.jsonValue(), async (a, b, value) => {
        fc.pre(Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0);
        const secret = p.secret(a);
        const other = p.secret(b);
        const body = JSON.stringify({ type: "x.y", id: "evt_1", value }) ?? "{}";
        const scheme = p.scheme(secret, crypto);
        for (const c of failingCases(p, secret, other, body)) {
          const error = await verifyWebhook({ body: c.body, headers: c.headers }, scheme, { now: c.now }).then(
            () => undefined,
            (e: unknown) => e,
          );
          // Each check calls `expect` only when it fails: some 50 checks a run at 10,000 runs
          // would otherwise spend most of the time in vitest's bookkeeping.
          if (!(error instanceof WebhookVerificationError)) expect(error, c.label).toBeInstanceOf(WebhookVerificationError);
          expectBe(isWebhookError(error), true);
          expectBe(isWebhookVerificationError(error), true);
          const { code, message, status } = error as WebhookVerificationError;
          if (code !== c.code) expect(code, c.label).toBe(c.code);
          if (!(status >= 400)) expect(status).toBeGreaterThanOrEqual(400);
          if (!(message.length > 20)) expect(message.length).toBeGreaterThan(20);
          for (const s of forbidden(secret, c.body, c.headers, c.computed)) if (message.includes(s)) expect(message, `${c.label}: message leaks ${s.slice(0, 4)}…`).not.toContain(s);
        }
      }),
      params(),
    );
  }, propTimeout(0.6));
});

describe("error messages", () => {
  it("differ by code, each saying what to check", async () => {
    const p = providers[0]!;
    const secret = p.secret(new Uint8Array(32).fill(7));
    const scheme = p.scheme(secret, "node");
    const body = JSON.stringify({ id: "evt_1", type: "a" });
    const good = p.encode(p.digest(secret, body));
    const messages = new Map<string, string>();
    const record = async (request: { body: unknown; headers: Record<string, string> }, now = T * 1000) => {
      const e = (await verifyWebhook(request as { body: string; headers: Record<string, string> }, scheme, { now }).catch((x: unknown) => x)) as WebhookVerificationError;
      messages.set(e.code, e.message);
    };
    await record({ body, headers: {} });
    await record({ body, headers: { "stripe-signature": "nonsense" } });
    await record({ body, headers: { "stripe-signature": `v1=${good}` } });
    await record({ body, headers: p.headers(good) }, (T + 1000) * 1000);
    await record({ body, headers: p.headers(good) }, (T - 1000) * 1000);
    await record({ body: `${body} `, headers: p.headers(good) });
    await record({ body: "nope", headers: p.headers(p.encode(p.digest(secret, "nope"))) });
    await record({ body: { parsed: true }, headers: p.headers(good) });
    expect([...messages.keys()].sort()).toEqual(
      ["body_not_raw", "invalid_json", "malformed_header", "missing_header", "signature_mismatch", "timestamp_missing", "timestamp_too_new", "timestamp_too_old"].sort(),
    );
    expect(new Set(messages.values()).size).toBe(messages.size);
    for (const m of messages.values()) expect(m).toMatch(/^stripe: /);
    expect(messages.get("missing_header")).toContain("stripe-signature");
    expect(messages.get("signature_mismatch")).toMatch(/secret/);
    expect(messages.get("body_not_raw")).toMatch(/express\.raw/);
    expect(messages.get("timestamp_too_old")).toMatch(/1000 s old; the tolerance is 300 s/);
  });
});
