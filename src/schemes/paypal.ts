/**
 * PayPal: `PAYPAL-TRANSMISSION-SIG` = base64 RSA (SHA256withRSA) signature of
 * `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody)}`, verified with the
 * certificate PayPal names in `PAYPAL-CERT-URL`, fetched from PayPal's own hosts only.
 *
 * @module
 */
import { firstPemCertificate, firstValidKey, pemOrBase64, readCertificate, rsaPrivateKey, rsaPublicKey, type PrivateKeySigner, type PublicKeyVerifier } from "../internal/asymmetric";
import { randomId, resolveCrypto, type CryptoPreference } from "../internal/crypto";
import { base64ToBytes, bytesToBase64, utf8Encode } from "../internal/encoding";
import { parsePayload, readPath } from "../internal/payload";
import { assertTolerance, checkWindow, parseTimestamp } from "../internal/timestamp";
import type { SchemeContext, SchemeRequest, VerifyFailure, VerifyOutcome, WebhookScheme } from "../types";

/** The part of a `fetch` response the PayPal scheme reads. */
export interface PayPalFetchResponse {
  /** True for a 2xx status. */
  readonly ok: boolean;
  /** The HTTP status. */
  readonly status: number;
  /** The final URL after any redirect, where the implementation reports it. */
  readonly url?: string;
  /** The body: the certificate, PEM-encoded. */
  text(): Promise<string>;
}

/** A `fetch`-compatible function: `globalThis.fetch` works as it is. */
export type PayPalFetch = (url: string, init: { readonly method: "GET"; readonly redirect: "error"; readonly signal?: AbortSignal }) => Promise<PayPalFetchResponse>;

/** Options of {@link paypal}. */
export interface PayPalOptions {
  /** The webhook's id from the PayPal dashboard (it is part of the signed string); several for several webhooks. */
  readonly webhookId: string | readonly string[];
  /**
   * Fetches PayPal's signing certificate. Required: hookguard makes no network call of its
   * own. Only `https://` URLs on PayPal's certificate hosts are ever requested, with
   * `redirect: "error"`. Pass `globalThis.fetch`, or a wrapper that adds a timeout or a proxy.
   */
  readonly fetch: PayPalFetch;
  /** Accepted clock difference, both ways, in seconds, on `PAYPAL-TRANSMISSION-TIME`. @default 300 */
  readonly toleranceSeconds?: number;
  /** How long a fetched certificate is reused (never past its own expiry). @default 86_400_000 (24 h) */
  readonly certificateTtlMs?: number;
  /** An RSA private key (PKCS #8, base64 DER or PEM), for `signWebhook` only (tests, local tools). */
  readonly privateKey?: string;
  /** The `PAYPAL-CERT-URL` that `signWebhook` writes. @default "https://api.paypal.com/v1/notifications/certs/CERT-hookguard-test" */
  readonly certUrl?: string;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

/**
 * The only hosts a certificate is ever fetched from (live and sandbox, both API host names).
 *
 * @example
 * ```ts
 * import { PAYPAL_CERTIFICATE_HOSTS } from "hookguard";
 * PAYPAL_CERTIFICATE_HOSTS.includes(new URL(certUrl).hostname);
 * ```
 */
export const PAYPAL_CERTIFICATE_HOSTS: readonly string[] = Object.freeze(["api.paypal.com", "api.sandbox.paypal.com", "api-m.paypal.com", "api-m.sandbox.paypal.com"]);

const H = {
  id: "paypal-transmission-id",
  time: "paypal-transmission-time",
  sig: "paypal-transmission-sig",
  certUrl: "paypal-cert-url",
  algo: "paypal-auth-algo",
} as const;
const MAX_CERTIFICATE_CHARS = 64 * 1024;
const MAX_CACHED = 16;

/**
 * `true` for `https://<allowlisted host>[:443]/…` with no credentials: the only URLs ever fetched.
 *
 * @example
 * ```ts
 * import { isPayPalCertificateUrl } from "hookguard";
 * isPayPalCertificateUrl("https://api.paypal.com/v1/notifications/certs/CERT-1"); // true
 * isPayPalCertificateUrl("https://paypal.example.com/cert.pem"); // false
 * ```
 */
export function isPayPalCertificateUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === "https:" && u.username === "" && u.password === "" && (u.port === "" || u.port === "443") && PAYPAL_CERTIFICATE_HOSTS.includes(u.hostname);
}

let crcTable: Uint32Array | undefined;

/** CRC-32/IEEE (the zlib one) of the raw bytes, unsigned. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface CachedKey {
  readonly key: PublicKeyVerifier;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/**
 * Verifies PayPal webhooks offline, with the certificate PayPal names.
 *
 * How trust is established, and its limits:
 * - `PAYPAL-CERT-URL` comes from the request, so it is attacker-controlled: it is fetched
 *   only if it is `https://` on one of {@link PAYPAL_CERTIFICATE_HOSTS} (no other port, no
 *   credentials), with redirects refused; anything else is rejected without a request.
 * - The certificate is then trusted because HTTPS to PayPal's own host delivered it. Its
 *   validity dates and RSA key are checked; its chain is **not** validated (there is no
 *   portable trust store on edge runtimes). If you need chain validation, use PayPal's
 *   online `verify-webhook-signature` API instead.
 * - Certificates are cached per URL (16 at most, 24 h by default, never past expiry); a
 *   failed fetch is not cached.
 * - Only `SHA256withRSA` is accepted (PayPal's 2014-era `SHA1withRSA` is refused).
 * - The signed string carries the CRC-32 of the raw body (not a hash): the RSA signature is
 *   what authenticates; the CRC only binds the body.
 * - `id` is the event's `id` (`WH-…`, stable across retries), `type` its `event_type`. The
 *   window on `PAYPAL-TRANSMISSION-TIME` is ±300 s (PayPal's samples check none).
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { paypal, verifyWebhook } from "hookguard";
 * const scheme = paypal({ webhookId: process.env.PAYPAL_WEBHOOK_ID!, fetch: globalThis.fetch });
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function paypal<TPayload = Record<string, unknown>>(options: PayPalOptions): WebhookScheme<TPayload> {
  const where = "paypal()";
  const ids = typeof options?.webhookId === "string" ? [options.webhookId] : Array.isArray(options?.webhookId) ? [...options.webhookId] : [];
  if (ids.length === 0 || ids.some((id) => typeof id !== "string" || id === "")) {
    throw new TypeError(`hookguard: ${where} needs \`webhookId\`: the webhook's id from the PayPal dashboard (a non-empty string, or an array of them)`);
  }
  const fetchCertificate = options.fetch;
  if (typeof fetchCertificate !== "function") {
    throw new TypeError(`hookguard: ${where} needs \`fetch\` to download PayPal's signing certificate (e.g. fetch: globalThis.fetch); hookguard makes no network call of its own`);
  }
  const impl = resolveCrypto(options.crypto);
  const toleranceSeconds = assertTolerance(options.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);
  const ttlMs = options.certificateTtlMs ?? 86_400_000;
  if (typeof ttlMs !== "number" || !(ttlMs >= 0)) throw new TypeError(`hookguard: ${where}: \`certificateTtlMs\` must be a number of milliseconds >= 0`);
  const certUrl = options.certUrl ?? "https://api.paypal.com/v1/notifications/certs/CERT-hookguard-test";
  if (!isPayPalCertificateUrl(certUrl)) throw new TypeError(`hookguard: ${where}: \`certUrl\` must be https:// on ${PAYPAL_CERTIFICATE_HOSTS.join(", ")}`);
  let signer: PrivateKeySigner | undefined;
  if (options.privateKey !== undefined) {
    const der = typeof options.privateKey === "string" ? pemOrBase64(options.privateKey) : undefined;
    if (!der) throw new TypeError(`hookguard: ${where}: \`privateKey\` must be an RSA private key in PKCS#8, as base64 DER or PEM`);
    try {
      signer = rsaPrivateKey(der, impl);
    } catch {
      throw new TypeError(`hookguard: ${where}: \`privateKey\` is not an RSA private key in PKCS#8`);
    }
  }

  const cache = new Map<string, { readonly entry: Promise<CachedKey>; readonly fetchedAtMs: number }>();

  async function load(url: string): Promise<CachedKey> {
    let response: PayPalFetchResponse;
    try {
      response = await fetchCertificate(url, { method: "GET", redirect: "error" });
    } catch {
      // The fetch's own message may say anything (a proxy URL, a header): it stays out of ours.
      throw new Error("the fetch failed or was redirected");
    }
    // A fetch that followed a redirect anyway must still have ended on PayPal.
    if (typeof response.url === "string" && response.url !== "" && !isPayPalCertificateUrl(response.url)) throw new Error("redirected off PayPal's hosts");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_CERTIFICATE_CHARS) throw new Error("the certificate is too large");
    const der = firstPemCertificate(text);
    const info = der && readCertificate(der);
    if (!info) throw new Error("the response is not a PEM X.509 certificate with an RSA key");
    return { key: rsaPublicKey(info.spki, impl), notBeforeMs: info.notBeforeMs, notAfterMs: info.notAfterMs };
  }

  function certificate(url: string, nowMs: number): Promise<CachedKey> {
    const hit = cache.get(url);
    if (hit && nowMs - hit.fetchedAtMs < ttlMs) {
      // Map order is insertion order: re-inserting keeps the most recently used last.
      cache.delete(url);
      cache.set(url, hit);
      return hit.entry;
    }
    const entry = load(url);
    cache.set(url, { entry, fetchedAtMs: nowMs });
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
    // Failures are not remembered: the next delivery tries again.
    entry.catch(() => {
      if (cache.get(url)?.entry === entry) cache.delete(url);
    });
    return entry;
  }

  async function verifyAsync(req: SchemeRequest, ctx: SchemeContext, url: string, parts: { id: string; time: string; timestampMs: number; signature: Uint8Array }): Promise<VerifyOutcome<TPayload>> {
    let cert: CachedKey;
    try {
      cert = await certificate(url, ctx.nowMs);
    } catch (error) {
      return { ok: false, code: "signature_mismatch", header: H.certUrl, detail: `PayPal's signing certificate could not be used: ${error instanceof Error ? error.message : "fetch failed"}` };
    }
    if (ctx.nowMs < cert.notBeforeMs || ctx.nowMs > cert.notAfterMs) {
      return { ok: false, code: "signature_mismatch", header: H.certUrl, detail: "PayPal's signing certificate is not valid at this time" };
    }
    const crc = String(crc32(typeof req.body === "string" ? utf8Encode(req.body) : req.body));
    let index = -1;
    for (let i = 0; i < ids.length && index < 0; i++) {
      if ((await firstValidKey([cert.key], [`${parts.id}|${parts.time}|${ids[i]}|${crc}`], [parts.signature])) === 0) index = i;
    }
    if (index < 0) return { ok: false, code: "signature_mismatch", header: H.sig };
    const parsed = parsePayload(req.body, req.header("content-type"));
    if (parsed === undefined) return { ok: false, code: "invalid_json" };
    return {
      ok: true,
      webhook: {
        id: readPath(parsed.value, ["id"]),
        type: readPath(parsed.value, ["event_type"]),
        timestamp: new Date(parts.timestampMs),
        payload: parsed.value as TPayload,
        rawBody: req.body,
        scheme: "paypal",
        secretIndex: index,
      },
    };
  }

  return {
    name: "paypal",
    toleranceSeconds,
    verify(req: SchemeRequest, ctx: SchemeContext) {
      for (const name of [H.sig, H.id, H.certUrl, H.algo]) {
        if (req.header(name) === undefined) return { ok: false, code: "missing_header", header: name } satisfies VerifyFailure;
      }
      const algo = req.header(H.algo)!;
      if (algo !== "SHA256withRSA") return { ok: false, code: "malformed_header", header: H.algo, detail: "only SHA256withRSA is accepted" };
      const url = req.header(H.certUrl)!;
      if (!isPayPalCertificateUrl(url)) return { ok: false, code: "malformed_header", header: H.certUrl, detail: `the certificate URL must be https:// on ${PAYPAL_CERTIFICATE_HOSTS.join(", ")}; nothing was fetched` };
      const signature = base64ToBytes(req.header(H.sig)!.trim());
      if (!signature || signature.byteLength < 128) return { ok: false, code: "malformed_header", header: H.sig, detail: "expected base64 of an RSA signature" };
      const time = req.header(H.time);
      if (time === undefined) return { ok: false, code: "timestamp_missing", header: H.time };
      const timestampMs = parseTimestamp(time, "rfc3339");
      if (timestampMs === undefined) return { ok: false, code: "malformed_header", header: H.time, detail: "the timestamp is not an ISO 8601 date" };
      const tooFar = checkWindow(timestampMs, ctx.nowMs, ctx.toleranceSeconds ?? toleranceSeconds, H.time);
      if (tooFar) return tooFar;
      return verifyAsync(req, ctx, url, { id: req.header(H.id)!, time, timestampMs, signature });
    },
    async sign(body, o) {
      if (!signer) throw new TypeError(`hookguard: ${where}: signing needs \`privateKey\` (RSA, PKCS#8); only tests and local tools sign PayPal events`);
      const id = o.id ?? randomId();
      const time = new Date(o.timestampMs).toISOString().replace(/\.\d{3}Z$/, "Z");
      const crc = String(crc32(typeof body === "string" ? utf8Encode(body) : body));
      const signature = await signer.sign([`${id}|${time}|${ids[0]}|${crc}`]);
      return {
        "content-type": o.contentType,
        [H.id]: id,
        [H.time]: time,
        [H.sig]: bytesToBase64(signature),
        [H.certUrl]: certUrl,
        [H.algo]: "SHA256withRSA",
        "paypal-auth-version": "v2",
      };
    },
  };
}
