// PayPal, offline: a self-made certificate served by a fake fetch (never the network).
// The oracle is PayPal's documented algorithm (the one its archived SDKs implemented),
// computed with node:crypto and zlib.crc32, independently of hookguard.
import { X509Certificate, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32, isPayPalCertificateUrl, paypal, type PayPalFetch } from "../../src/schemes/paypal";
import { signWebhook } from "../../src/sign";
import { verifyWebhook } from "../../src/verify";
import { eventObject } from "../helpers/crypto-impls";
import { IMPLS, INTEROP_RUNS, expectFailure, flip, outcomeOf } from "../fixtures/providers/support";
import { selfSignedCertificate } from "../fixtures/providers/x509";

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77";
const WEBHOOK_ID = "1JE4291016473214C";
const cert = selfSignedCertificate(NOW - DAY, NOW + 365 * DAY);
const expired = selfSignedCertificate(NOW - 30 * DAY, NOW - DAY);

/** A fetch that serves `pem` for PayPal certificate URLs and records every URL it was asked for. */
function fakeFetch(pem = cert.pem, behaviour: "serve" | "404" | "throw" | "redirect-off-host" = "serve") {
  const calls: string[] = [];
  const fetch: PayPalFetch = async (url, init) => {
    calls.push(url);
    expect(init.redirect).toBe("error");
    if (behaviour === "throw") throw new Error(`connect ECONNREFUSED ${url} secret-proxy-token`);
    if (behaviour === "404") return { ok: false, status: 404, url, text: async () => "" };
    if (behaviour === "redirect-off-host") return { ok: true, status: 200, url: "https://evil.example/cert.pem", text: async () => pem };
    return { ok: true, status: 200, url, text: async () => pem };
  };
  return { fetch, calls };
}

/** PayPal's algorithm: RSA-SHA256 over `id|time|webhookId|crc32(body)`. */
function paypalHeaders(body: string | Buffer, at: { id: string; time: string; webhookId?: string; key?: typeof cert.privateKey; certUrl?: string }) {
  const crc = zlibCrc32(typeof body === "string" ? Buffer.from(body) : body);
  const sig = nodeSign("sha256", Buffer.from(`${at.id}|${at.time}|${at.webhookId ?? WEBHOOK_ID}|${crc}`), at.key ?? cert.privateKey).toString("base64");
  return {
    "PAYPAL-TRANSMISSION-ID": at.id,
    "PAYPAL-TRANSMISSION-TIME": at.time,
    "PAYPAL-TRANSMISSION-SIG": sig,
    "PAYPAL-CERT-URL": at.certUrl ?? CERT_URL,
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-AUTH-VERSION": "v2",
  };
}

const paypalBody = eventObject.map((e) => JSON.stringify({ id: `WH-${e.id}`, event_version: "1.0", event_type: "PAYMENT.CAPTURE.COMPLETED", resource_type: "capture", resource: e.data }));
const TIME = new Date(NOW).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("paypal helpers", () => {
  it("computes CRC-32/IEEE exactly as zlib does, on any bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc32(bytes) === zlibCrc32(bytes)));
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("allows only https certificate URLs on PayPal's four hosts", () => {
    for (const ok of [CERT_URL, "https://api.sandbox.paypal.com/v1/notifications/certs/X", "https://api-m.paypal.com/x", "https://api-m.sandbox.paypal.com:443/x", "https://API.PAYPAL.COM/x"]) expect(isPayPalCertificateUrl(ok)).toBe(true);
    for (const bad of [
      "http://api.paypal.com/v1/notifications/certs/X",
      "https://api.paypal.com.evil.example/x",
      "https://evil.example/api.paypal.com",
      "https://api.paypal.com:8443/x",
      "https://user:pass@api.paypal.com/x",
      "https://api.paypal.com@evil.example/x",
      "https://paypal.com/x",
      "https://www.paypal.com/x",
      "file:///etc/passwd",
      "//api.paypal.com/x",
      "not a url",
    ]) {
      expect(isPayPalCertificateUrl(bad)).toBe(false);
    }
  });
});

describe.each(IMPLS)("paypal (crypto: %s)", (impl) => {
  it("verifies what PayPal's algorithm signs, fetching the certificate once, and signs what it verifies", async () => {
    const { fetch, calls } = fakeFetch();
    const scheme = paypal({ webhookId: WEBHOOK_ID, fetch, privateKey: cert.pkcs8Pem, certUrl: CERT_URL, crypto: impl });
    await fc.assert(
      fc.asyncProperty(paypalBody, fc.uuid(), async (body, id) => {
        const verified = await verifyWebhook({ body, headers: paypalHeaders(body, { id, time: TIME }) }, scheme, { now: NOW });
        expect(verified).toMatchObject({ id: JSON.parse(body).id, type: "PAYMENT.CAPTURE.COMPLETED", scheme: "paypal", secretIndex: 0 });
        expect(verified.timestamp?.getTime()).toBe(NOW);
        const ours = await signWebhook(body, scheme, { id, timestamp: NOW });
        expect(ours["paypal-transmission-time"]).toBe(TIME);
        const crc = zlibCrc32(Buffer.from(body));
        const pub = new X509Certificate(cert.pem).publicKey;
        expect(nodeVerify("sha256", Buffer.from(`${id}|${TIME}|${WEBHOOK_ID}|${crc}`), pub, Buffer.from(ours["paypal-transmission-sig"]!, "base64"))).toBe(true);
      }),
      { numRuns: INTEROP_RUNS },
    );
    expect(calls).toEqual([CERT_URL]);
  });

  it("rejects tampered variants with the exact code", async () => {
    const { fetch } = fakeFetch();
    const scheme = paypal({ webhookId: WEBHOOK_ID, fetch, crypto: impl });
    const other = selfSignedCertificate(NOW - DAY, NOW + DAY);
    await fc.assert(
      fc.asyncProperty(paypalBody, fc.nat(), async (body, index) => {
        const headers = paypalHeaders(body, { id: "t-1", time: TIME });
        await expectFailure(scheme, { body: flip(body, index), headers }, "signature_mismatch", NOW, [WEBHOOK_ID]);
        await expectFailure(scheme, { body, headers: { ...headers, "PAYPAL-TRANSMISSION-ID": "t-2" } }, "signature_mismatch", NOW);
        await expectFailure(scheme, { body, headers: paypalHeaders(body, { id: "t-1", time: TIME, webhookId: "OTHERWEBHOOKID" }) }, "signature_mismatch", NOW);
        await expectFailure(scheme, { body, headers: paypalHeaders(body, { id: "t-1", time: TIME, key: other.privateKey }) }, "signature_mismatch", NOW);
        const later = new Date(NOW + 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        await expectFailure(scheme, { body, headers: { ...headers, "PAYPAL-TRANSMISSION-TIME": later } }, "signature_mismatch", NOW);
      }),
      { numRuns: INTEROP_RUNS },
    );
    // Several webhook ids: the one that matched is reported.
    const two = paypal({ webhookId: ["OTHERWEBHOOKID", WEBHOOK_ID], fetch, crypto: impl });
    const body = JSON.stringify({ id: "WH-2", event_type: "X" });
    expect(await outcomeOf(two, { body, headers: paypalHeaders(body, { id: "t", time: TIME }) }, NOW)).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it("never fetches a certificate URL outside PayPal's hosts", async () => {
    const { fetch, calls } = fakeFetch();
    const scheme = paypal({ webhookId: WEBHOOK_ID, fetch, crypto: impl });
    const body = JSON.stringify({ id: "WH-1", event_type: "X" });
    for (const certUrl of ["https://evil.example/cert.pem", "http://api.paypal.com/v1/notifications/certs/X", "https://api.paypal.com.evil.example/cert", "https://api.paypal.com:8443/cert", "https://x@api.paypal.com/cert", "http://169.254.169.254/latest/meta-data"]) {
      await expectFailure(scheme, { body, headers: paypalHeaders(body, { id: "t", time: TIME, certUrl }) }, "malformed_header", NOW);
    }
    expect(calls).toEqual([]);
  });

  it("fails closed when the certificate cannot be fetched, is redirected away, or has expired, and retries later", async () => {
    const body = JSON.stringify({ id: "WH-1", event_type: "X" });
    const headers = paypalHeaders(body, { id: "t", time: TIME });
    for (const behaviour of ["404", "throw", "redirect-off-host"] as const) {
      const { fetch, calls } = fakeFetch(cert.pem, behaviour);
      const scheme = paypal({ webhookId: WEBHOOK_ID, fetch, crypto: impl });
      const o = await outcomeOf(scheme, { body, headers }, NOW);
      expect(o).toMatchObject({ ok: false, code: "signature_mismatch" });
      expect((o as { detail: string }).detail).not.toContain("secret-proxy-token");
      await outcomeOf(scheme, { body, headers }, NOW);
      // A failure is not cached: the second delivery fetched again.
      expect(calls).toHaveLength(2);
    }
    const { fetch } = fakeFetch(expired.pem);
    const stale = paypal({ webhookId: WEBHOOK_ID, fetch, crypto: impl });
    const expiredHeaders = paypalHeaders(body, { id: "t", time: TIME, key: expired.privateKey });
    expect(await outcomeOf(stale, { body, headers: expiredHeaders }, NOW)).toMatchObject({ ok: false, code: "signature_mismatch", detail: expect.stringMatching(/not valid at this time/) });
    const { fetch: garbage } = fakeFetch("<html>not a certificate</html>");
    await expectFailure(paypal({ webhookId: WEBHOOK_ID, fetch: garbage, crypto: impl }), { body, headers }, "signature_mismatch", NOW);
  });

  it("re-fetches after the certificate TTL, and refuses SHA1withRSA, stale times and missing headers", async () => {
    const { fetch, calls } = fakeFetch();
    const scheme = paypal({ webhookId: WEBHOOK_ID, fetch, certificateTtlMs: 60_000, crypto: impl });
    const body = JSON.stringify({ id: "WH-1", event_type: "X" });
    const headers = paypalHeaders(body, { id: "t", time: TIME });
    expect((await outcomeOf(scheme, { body, headers }, NOW)).ok).toBe(true);
    expect((await outcomeOf(scheme, { body, headers }, NOW + 30_000)).ok).toBe(true);
    expect(calls).toHaveLength(1);
    expect((await outcomeOf(scheme, { body, headers }, NOW + 61_000)).ok).toBe(true);
    expect(calls).toHaveLength(2);
    await expectFailure(scheme, { body, headers: { ...headers, "PAYPAL-AUTH-ALGO": "SHA1withRSA" } }, "malformed_header", NOW);
    await expectFailure(scheme, { body, headers }, "timestamp_too_old", NOW + 301_000);
    await expectFailure(scheme, { body, headers }, "timestamp_too_new", NOW - 301_000);
    const { "PAYPAL-TRANSMISSION-TIME": _t, ...noTime } = headers;
    await expectFailure(scheme, { body, headers: noTime }, "timestamp_missing", NOW);
    const { "PAYPAL-CERT-URL": _c, ...noCert } = headers;
    await expectFailure(scheme, { body, headers: noCert }, "missing_header", NOW);
  });
});
