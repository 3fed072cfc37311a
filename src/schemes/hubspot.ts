/**
 * HubSpot: v3 `X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method + URI + body +
 * timestamp>` (timestamp in ms); legacy v1/v2 `X-HubSpot-Signature: <hex SHA-256 of
 * clientSecret + …>`.
 *
 * @module
 */
import { buildHmacScheme } from "./hmac";
import { digest, resolveCrypto, timingSafeEqual, type CryptoPreference } from "../internal/crypto";
import { bytesToHex, hexToBytes } from "../internal/encoding";
import { parsePayload } from "../internal/payload";
import { checkUrlOptions, missingUrl, resolvePublicUrl, urlForDetail, type PublicUrlOptions } from "../internal/public-url";
import { secretList } from "../internal/secrets";
import type { SchemeRequest, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link hubspot}. */
export interface HubSpotOptions extends PublicUrlOptions {
  /** The app's client secret; several while you rotate. */
  readonly secret: string | readonly string[];
  /** Accepted clock difference, both ways, in seconds. @default 300 */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

/** Options of {@link hubspotLegacy}. */
export interface HubSpotLegacyOptions extends PublicUrlOptions {
  /** The app's client secret; several while you rotate. */
  readonly secret: string | readonly string[];
  /** The versions accepted; the first is the one `signWebhook` writes. @default ["v2", "v1"] */
  readonly versions?: readonly ("v1" | "v2")[];
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

// HubSpot signs the URI with these characters decoded (its "Validating requests" page); the
// `?` that starts the query is never encoded in the first place.
const DECODED: Readonly<Record<string, string>> = {
  "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
};
const ENCODED_RE = /%(?:3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

function hubspotUri(url: string): string {
  return url.replace(ENCODED_RE, (m) => DECODED[m.toUpperCase()]!);
}

function withUrl(req: SchemeRequest, url: string): SchemeRequest {
  return { body: req.body, header: (n) => req.header(n), url, method: (req.method ?? "POST").toUpperCase() };
}

/**
 * Verifies HubSpot requests signed with v3 (webhooks, workflow actions, CRM cards).
 *
 * - The signature covers the method, the **full public URI** (HubSpot's percent-decoding of
 *   `: / ? @ ! $ ' ( ) * , ;` is applied), the body and `X-HubSpot-Request-Timestamp` (epoch
 *   **ms**). Behind a proxy, configure `baseUrl` or `url`, or pass a public `request.url`.
 * - The window is ±300 s (HubSpot's SDK: 5 minutes, old timestamps only). Compared in
 *   constant time (the SDK uses `===`).
 * - Webhook bodies are a JSON **array** of events: `id` and `type` are `undefined`; iterate
 *   the payload and deduplicate on each event's `eventId`.
 * - Legacy v1/v2 signatures, which sign no timestamp, are verified only by
 *   {@link hubspotLegacy}, never as a fallback here.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { hubspot, verifyWebhook } from "hookguard";
 * const scheme = hubspot({ secret: process.env.HUBSPOT_CLIENT_SECRET!, baseUrl: "https://api.example.com" });
 * const { payload } = await verifyWebhook({ body: rawBody, headers: req.headers, url: req.originalUrl, method: req.method }, scheme);
 * ```
 */
export function hubspot<TPayload = Record<string, unknown>[]>(options: HubSpotOptions): WebhookScheme<TPayload> {
  const where = "hubspot()";
  const inner = buildHmacScheme<TPayload>(
    {
      name: "hubspot",
      secret: options?.secret,
      toleranceSeconds: options?.toleranceSeconds,
      crypto: options?.crypto,
      signature: { header: "x-hubspot-signature-v3", encoding: "base64" },
      timestamp: { header: "x-hubspot-request-timestamp", unit: "ms" },
      signedContent: "{method}{url}{body}{timestamp}",
    },
    where,
  );
  checkUrlOptions(options, where);

  function explain(outcome: VerifyOutcome<TPayload>, url: string): VerifyOutcome<TPayload> {
    if (outcome.ok || outcome.code !== "signature_mismatch") return outcome;
    return { ...outcome, detail: `the signature covers the method and URI; verified against ${urlForDetail(url)} — behind a proxy, set baseUrl or url` };
  }

  return {
    name: "hubspot",
    toleranceSeconds: inner.toleranceSeconds,
    verify(req, ctx) {
      const resolved = resolvePublicUrl(req.url, options);
      if (resolved === undefined) {
        if (req.header("x-hubspot-signature-v3") === undefined) return { ok: false, code: "missing_header", header: "x-hubspot-signature-v3" };
        return missingUrl(req.url);
      }
      const url = hubspotUri(resolved);
      const outcome = inner.verify(withUrl(req, url), ctx);
      return outcome instanceof Promise ? outcome.then((o) => explain(o, url)) : explain(outcome, url);
    },
    sign(body, o) {
      const url = o.url ?? options.url;
      if (url === undefined) throw new TypeError(`hookguard: ${where}: signing needs the request URL: pass signWebhook(body, scheme, { url })`);
      return inner.sign(body, { ...o, url: hubspotUri(url), method: o.method.toUpperCase() });
    },
  };
}

/**
 * Verifies HubSpot's legacy signatures, `X-HubSpot-Signature` with
 * `X-HubSpot-Signature-Version: v1 | v2`: a plain SHA-256 (not an HMAC) of the client
 * secret followed by the body (v1) or by the method, URI and body (v2).
 *
 * Neither version signs a timestamp, and v1 does not cover the URL: prefer {@link hubspot}
 * (v3), which HubSpot sends alongside. Use this only for requests that carry no v3
 * signature. v2 needs the public URL, like v3 (`url`, `baseUrl` or `request.url`).
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { hubspotLegacy, verifyWebhook } from "hookguard";
 * const scheme = hubspotLegacy({ secret: process.env.HUBSPOT_CLIENT_SECRET!, versions: ["v1"] });
 * const { payload } = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function hubspotLegacy<TPayload = Record<string, unknown>[]>(options: HubSpotLegacyOptions): WebhookScheme<TPayload> {
  const where = "hubspotLegacy()";
  const impl = resolveCrypto(options?.crypto);
  const secrets = secretList(options?.secret, where);
  checkUrlOptions(options, where);
  const versions = options.versions ?? ["v2", "v1"];
  if (!Array.isArray(versions) || versions.length === 0 || versions.some((v) => v !== "v1" && v !== "v2")) {
    throw new TypeError(`hookguard: ${where}: \`versions\` must be a non-empty array of "v1" and "v2"`);
  }

  function finish(req: SchemeRequest, index: number): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", header: "x-hubspot-signature" };
    const parsed = parsePayload(req.body, req.header("content-type"));
    // A GET carries no body; its payload is empty rather than invalid.
    if (parsed === undefined && req.body.length > 0) return { ok: false, code: "invalid_json" };
    return { ok: true, webhook: { id: undefined, type: undefined, timestamp: undefined, payload: (parsed?.value ?? null) as TPayload, rawBody: req.body, scheme: "hubspot", secretIndex: index } };
  }

  async function verifyAsync(req: SchemeRequest, middle: string, signature: Uint8Array): Promise<VerifyOutcome<TPayload>> {
    for (let i = 0; i < secrets.length; i++) {
      if (timingSafeEqual(await digest("sha256", [secrets[i]! + middle, req.body], impl), signature, impl)) return finish(req, i);
    }
    return finish(req, -1);
  }

  return {
    name: "hubspot",
    toleranceSeconds: undefined,
    verify(req) {
      const hex = req.header("x-hubspot-signature");
      if (hex === undefined) return { ok: false, code: "missing_header", header: "x-hubspot-signature" };
      const version = req.header("x-hubspot-signature-version");
      if (version === undefined) return { ok: false, code: "missing_header", header: "x-hubspot-signature-version" };
      if (version !== "v1" && version !== "v2") return { ok: false, code: "malformed_header", header: "x-hubspot-signature-version", detail: "expected v1 or v2" };
      if (!versions.includes(version)) return { ok: false, code: "malformed_header", header: "x-hubspot-signature-version", detail: `${version} is not among the accepted versions` };
      const signature = hexToBytes(hex.trim());
      if (signature === undefined || signature.byteLength !== 32) return { ok: false, code: "malformed_header", header: "x-hubspot-signature", detail: "expected a hex SHA-256" };
      let middle = "";
      if (version === "v2") {
        const url = resolvePublicUrl(req.url, options);
        if (url === undefined) return missingUrl(req.url);
        middle = (req.method ?? "POST").toUpperCase() + url;
      }
      if (impl === "web") return verifyAsync(req, middle, signature);
      for (let i = 0; i < secrets.length; i++) {
        if (timingSafeEqual(digest("sha256", [secrets[i]! + middle, req.body], impl) as Uint8Array, signature, impl)) return finish(req, i);
      }
      return finish(req, -1);
    },
    async sign(body, o) {
      const version = versions[0]!;
      let middle = "";
      if (version === "v2") {
        const url = o.url ?? options.url;
        if (url === undefined) throw new TypeError(`hookguard: ${where}: signing v2 needs the request URL: pass signWebhook(body, scheme, { url })`);
        middle = o.method.toUpperCase() + url;
      }
      const hash = bytesToHex(await digest("sha256", [secrets[0]! + middle, body], impl));
      return { "content-type": o.contentType, "x-hubspot-signature": hash, "x-hubspot-signature-version": version };
    },
  };
}

