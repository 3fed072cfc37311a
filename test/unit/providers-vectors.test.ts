// Published vectors (SDK test suites and provider docs) against both crypto paths, and
// every header shape a server hands out.
import { describe, expect, it } from "vitest";
import { hubspotLegacy } from "../../src/schemes/hubspot";
import { mailgun } from "../../src/schemes/mailgun";
import { sendgrid } from "../../src/schemes/sendgrid";
import { twilio } from "../../src/schemes/twilio";
import type { WebhookScheme } from "../../src/types";
import { verifyRequest } from "../../src/verify";
import { IMPLS, outcomeOf, type Impl } from "../fixtures/providers/support";
import { PROVIDER_VECTORS, type ProviderVector } from "../fixtures/providers/vectors";

function schemeFor(v: ProviderVector, impl: Impl): WebhookScheme<unknown> {
  switch (v.scheme) {
    case "sendgrid":
      // The window is not what these vectors test: their timestamps are years old.
      return sendgrid({ publicKey: v.key, toleranceSeconds: Number.POSITIVE_INFINITY, crypto: impl });
    case "mailgun":
      return mailgun({ secret: v.key, crypto: impl });
    case "twilio":
      return twilio({ secret: v.key, crypto: impl });
    case "hubspotLegacy":
      return hubspotLegacy({ secret: v.key, crypto: impl });
  }
}

function asHeaders(record: Readonly<Record<string, string>>): Headers {
  const h = new Headers();
  for (const [k, value] of Object.entries(record)) h.set(k, value);
  return h;
}

describe.each(IMPLS)("published provider vectors (crypto: %s)", (impl) => {
  it.each(PROVIDER_VECTORS.map((v) => [`${v.scheme}: ${v.name} (${v.source})`, v] as const))("%s", async (_label, v) => {
    const scheme = schemeFor(v, impl);
    for (const headers of [{ ...v.headers }, Object.fromEntries(Object.entries(v.headers).map(([k, value]) => [k.toLowerCase(), value]))]) {
      const o = await outcomeOf(scheme, { body: v.body, headers, url: v.url, method: v.method }, v.now);
      expect(o).toMatchObject(v.expected);
    }
    // A Web Headers object reads the same.
    const viaHeaders = await verifyRequest({ body: Buffer.from(v.body), headers: asHeaders(v.headers), url: v.url, method: v.method }, scheme, { now: v.now });
    expect(viaHeaders.ok).toBe(v.expected.ok);
  });
});
