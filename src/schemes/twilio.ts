/**
 * Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1 of the full URL + the sorted POST
 * parameters>`; JSON bodies are covered by a `bodySHA256` query parameter instead.
 *
 * @module
 */
import { digest, prepareHmacKey, randomId, resolveCrypto, timingSafeEqual, type CryptoPreference, type HmacKey } from "../internal/crypto";
import { base64ToBytes, bodyText, bytesToBase64, bytesToHex, hexToBytes, utf8Encode } from "../internal/encoding";
import { isFormContentType, parseForm, parsePayload, type FormPayload } from "../internal/payload";
import { checkUrlOptions, missingUrl, resolvePublicUrl, urlForDetail, type PublicUrlOptions } from "../internal/public-url";
import { secretList } from "../internal/secrets";
import type { SchemeContext, SchemeRequest, VerifyFailure, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link twilio}. Twilio signs no timestamp. */
export interface TwilioOptions extends PublicUrlOptions {
  /** The account's Auth Token; several (primary and secondary) while you rotate. */
  readonly secret: string | readonly string[];
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const SIGNATURE = "x-twilio-signature";
const IDEMPOTENCY = "i-twilio-idempotency-token";
const SCHEME_RE = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

interface UrlParts {
  readonly scheme: string;
  readonly userInfo: string;
  readonly host: string;
  readonly port: string;
  readonly rest: string;
}

// Splits without normalising, so the path and query keep the exact characters Twilio signed.
function splitUrl(url: string): UrlParts | undefined {
  const m = SCHEME_RE.exec(url);
  if (!m) return undefined;
  const authority = m[2]!;
  const at = authority.lastIndexOf("@");
  const hostAndPort = authority.slice(at + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const colon = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  return {
    scheme: m[1]!,
    userInfo: authority.slice(0, at + 1),
    host: colon < 0 ? hostAndPort : hostAndPort.slice(0, colon),
    port: colon < 0 ? "" : hostAndPort.slice(colon),
    rest: url.slice(m[0].length),
  };
}

function withoutPort(url: string): string {
  const p = splitUrl(url);
  return p ? p.scheme + p.userInfo + p.host + p.rest : url;
}

function withPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  return p.scheme + p.userInfo + p.host + (p.scheme.toLowerCase() === "https://" ? ":443" : ":80") + p.rest;
}

/**
 * The URLs Twilio may have signed for one request, in the order its SDK tries them: as
 * received without and with the default port (Twilio signs the URL as configured, which a
 * proxy may have changed), then — only if those fail, as WHATWG parsing is not free — the
 * same after `new URL()` normalisation.
 */
function receivedVariants(url: string): string[] {
  const a = withoutPort(url);
  const b = withPort(url);
  return a === b ? [a] : [a, b];
}

function normalizedVariants(url: string, tried: readonly string[]): string[] {
  let normalized: string;
  try {
    normalized = new URL(url).href;
  } catch {
    return [];
  }
  return [...new Set([withoutPort(normalized), withPort(normalized)])].filter((u) => !tried.includes(u));
}

function queryParam(url: string, name: string): string | null {
  const q = url.indexOf("?");
  if (q < 0 || !url.includes(name, q)) return null;
  const hash = url.indexOf("#", q);
  return new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash)).get(name);
}

type Pairs = readonly (readonly [string, string])[];

/**
 * The parameters' part of the signed string: names sorted (by UTF-16 code units, as the
 * Node SDK's `Array#sort`), each value appended after its name; a repeated name contributes
 * each distinct value once, values sorted.
 */
function paramString(pairs: Pairs): string {
  // Sorting the pairs by name, then value, and skipping repeats is exactly that order.
  const sorted = pairs.slice().sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let out = "";
  let prev: readonly [string, string] | undefined;
  for (const pair of sorted) {
    if (prev === undefined || pair[0] !== prev[0] || pair[1] !== prev[1]) out += pair[0] + pair[1];
    prev = pair;
  }
  return out;
}

/** The form as the payload: repeated names become arrays (as `parseForm` gives them). */
function formPayload(pairs: Pairs): FormPayload {
  const out = Object.create(null) as FormPayload;
  for (const [key, value] of pairs) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

function formPairs(text: string): Pairs {
  return [...new URLSearchParams(text)];
}

/**
 * Verifies Twilio webhooks (Messaging, Voice, status callbacks, …).
 *
 * - The signature covers the **full public URL** Twilio requested. Behind a proxy or load
 *   balancer your server sees another scheme, host or port: pass `request.url` rebuilt from
 *   trusted forwarding headers, or configure `baseUrl` (e.g. `"https://api.example.com"`,
 *   then `request.url` may be a path such as `req.originalUrl`) or the exact `url`. As in
 *   Twilio's SDK, the URL is also tried without/with its default port and normalised.
 * - Form posts: every parameter is signed (sorted by name). JSON posts: Twilio puts
 *   `bodySHA256=<hex SHA-256 of the body>` in the URL and signs the URL only; that hash is
 *   checked too. A body that is neither form-encoded nor covered by `bodySHA256` is rejected:
 *   the signature would not cover it.
 * - `payload` is the form as `{ name: value | value[] }`, the JSON body, or for a bodiless
 *   request (GET) the query parameters. `id` is the `I-Twilio-Idempotency-Token` header;
 *   `type` is `undefined` (route on payload fields such as `MessageStatus`).
 * - Twilio signs no timestamp: only the idempotency store stops a replay.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { twilio, verifyWebhook } from "hookguard";
 * const scheme = twilio({ secret: process.env.TWILIO_AUTH_TOKEN!, baseUrl: "https://api.example.com" });
 * const event = await verifyWebhook({ body: rawBody, headers: req.headers, url: req.originalUrl }, scheme);
 * ```
 */
export function twilio<TPayload = Record<string, unknown>>(options: TwilioOptions): WebhookScheme<TPayload> {
  const where = "twilio()";
  const impl = resolveCrypto(options?.crypto);
  const keys: HmacKey[] = secretList(options?.secret, where).map((s) => prepareHmacKey("sha1", utf8Encode(s), impl));
  checkUrlOptions(options, where);

  function finish(req: SchemeRequest, url: string, mode: "json" | "form" | "empty", pairs: Pairs, index: number, bodyOk: boolean): VerifyOutcome<TPayload> {
    if (index < 0) {
      return { ok: false, code: "signature_mismatch", header: SIGNATURE, detail: `the signature covers the URL; verified against ${urlForDetail(url)} — behind a proxy, set baseUrl or url` };
    }
    if (!bodyOk) return { ok: false, code: "signature_mismatch", header: SIGNATURE, detail: "the body does not match the bodySHA256 the signed URL carries" };
    let payload: unknown;
    if (mode === "json") {
      const parsed = parsePayload(req.body, req.header("content-type"));
      if (parsed === undefined) return { ok: false, code: "invalid_json" };
      payload = parsed.value;
    } else if (mode === "form") {
      payload = formPayload(pairs);
    } else {
      const q = url.indexOf("?");
      payload = parseForm(q < 0 ? "" : url.slice(q + 1).split("#")[0]!);
    }
    return {
      ok: true,
      webhook: { id: req.header(IDEMPOTENCY), type: undefined, timestamp: undefined, payload: payload as TPayload, rawBody: req.body, scheme: "twilio", secretIndex: index },
    };
  }

  async function matchAsync(data: readonly string[], signature: Uint8Array): Promise<number> {
    for (let i = 0; i < keys.length; i++) {
      for (const d of data) if (timingSafeEqual(await keys[i]!.mac("", d, ""), signature, impl)) return i;
    }
    return -1;
  }

  function matchSync(data: readonly string[], signature: Uint8Array): number {
    for (let i = 0; i < keys.length; i++) {
      // `mac`, not `sign`: the HMAC schemes' one-call path on node:crypto (src/internal/crypto.ts).
      for (const d of data) if (timingSafeEqual(keys[i]!.mac("", d, "") as Uint8Array, signature, impl)) return i;
    }
    return -1;
  }

  async function verifyAsync(req: SchemeRequest, url: string, mode: "json" | "form" | "empty", pairs: Pairs, params: string, signature: Uint8Array, bodyHash: Uint8Array | undefined): Promise<VerifyOutcome<TPayload>> {
    const received = receivedVariants(url);
    let index = await matchAsync(received.map((u) => u + params), signature);
    if (index < 0) index = await matchAsync(normalizedVariants(url, received).map((u) => u + params), signature);
    const bodyOk = bodyHash === undefined || timingSafeEqual(await digest("sha256", [req.body], impl), bodyHash, impl);
    return finish(req, url, mode, pairs, index, bodyOk);
  }

  return {
    name: "twilio",
    toleranceSeconds: undefined,
    verify(req: SchemeRequest, _ctx: SchemeContext) {
      const b64 = req.header(SIGNATURE);
      if (b64 === undefined) return { ok: false, code: "missing_header", header: SIGNATURE };
      const signature = base64ToBytes(b64.trim());
      if (signature === undefined || signature.byteLength !== 20) return { ok: false, code: "malformed_header", header: SIGNATURE, detail: "expected base64 of an HMAC-SHA1" };
      const url = resolvePublicUrl(req.url, options);
      if (url === undefined) return missingUrl(req.url);
      const bodyHashHex = queryParam(url, "bodySHA256");
      let mode: "json" | "form" | "empty";
      let params = "";
      let pairs: Pairs = [];
      let bodyHash: Uint8Array | undefined;
      if (bodyHashHex !== null) {
        bodyHash = hexToBytes(bodyHashHex);
        if (bodyHash === undefined || bodyHash.byteLength !== 32) return { ok: false, code: "malformed_header", detail: "the URL's bodySHA256 parameter is not a hex SHA-256" } satisfies VerifyFailure;
        mode = "json";
      } else if (isFormContentType(req.header("content-type"))) {
        pairs = formPairs(bodyText(req.body));
        params = paramString(pairs);
        mode = "form";
      } else if (req.body.length === 0) {
        mode = "empty";
      } else {
        return { ok: false, code: "signature_mismatch", header: SIGNATURE, detail: "the body is neither form-encoded nor covered by a bodySHA256 URL parameter, so the signature does not cover it" };
      }
      if (impl === "web") return verifyAsync(req, url, mode, pairs, params, signature, bodyHash);
      const received = receivedVariants(url);
      let index = matchSync(received.map((u) => u + params), signature);
      if (index < 0) index = matchSync(normalizedVariants(url, received).map((u) => u + params), signature);
      const bodyOk = bodyHash === undefined || timingSafeEqual(digest("sha256", [req.body], impl) as Uint8Array, bodyHash, impl);
      return finish(req, url, mode, pairs, index, bodyOk);
    },
    async sign(body, o) {
      const url = o.url ?? options.url ?? (options.baseUrl === undefined ? undefined : resolvePublicUrl("/", options));
      if (url === undefined) throw new TypeError(`hookguard: ${where}: signing needs the URL Twilio requests: pass signWebhook(body, scheme, { url })`);
      let params = "";
      const hashHex = queryParam(url, "bodySHA256");
      if (hashHex !== null) {
        const actual = bytesToHex(await digest("sha256", [body], impl));
        if (hashHex.toLowerCase() !== actual) throw new TypeError(`hookguard: ${where}: the url's bodySHA256 is not the SHA-256 of this body; use ?bodySHA256=${actual}`);
      } else if (isFormContentType(o.contentType)) {
        params = paramString(formPairs(bodyText(body)));
      } else if (body.length > 0) {
        throw new TypeError(`hookguard: ${where}: Twilio signs a non-form body through the URL: add ?bodySHA256=<hex SHA-256 of the body> to the url, or send contentType "application/x-www-form-urlencoded"`);
      }
      const signature = bytesToBase64(await keys[0]!.sign([url + params]));
      return { "content-type": o.contentType, [SIGNATURE]: signature, [IDEMPOTENCY]: o.id ?? randomId() };
    },
  };
}
