/**
 * `hmacScheme`: describe any HMAC webhook provider declaratively. The built-in presets
 * (`stripe`, `github`, `standardWebhooks`, `slack`, `shopify`) are small descriptions
 * built on it.
 *
 * @module
 */
import { bytesToBase64, bytesToHex, base64ToBytes, hexToBytes } from "../internal/encoding";
import {
  digestLength,
  prepareHmacKey,
  randomId,
  resolveCrypto,
  timingSafeEqual,
  type CryptoPreference,
  type HmacAlgorithm,
  type HmacKey,
} from "../internal/crypto";
import { INVALID_BODY, parseBody, parseJson, readPath } from "../internal/payload";
import { withFastVerify } from "../internal/fast-verify";
import { readHeader } from "../headers";
import { secretBytes, secretList, type SecretFormat } from "../internal/secrets";
import { assertTolerance, checkWindow, formatTimestamp, parseTimestamp, type TimestampUnit } from "../internal/timestamp";
import type { WebhookResponse } from "../response";
import type { ResolvedSignOptions, SchemeRequest, VerifiedWebhook, VerifyFailure, VerifyOutcome, WebhookHeaders, WebhookScheme } from "../types";

export type { HmacAlgorithm } from "../internal/crypto";
export type { SecretFormat } from "../internal/secrets";
export type { TimestampUnit } from "../internal/timestamp";
export type { CryptoPreference } from "../internal/crypto";

/** What a value extractor sees: the verified, parsed payload and the request headers. */
export interface ExtractContext {
  /** The parsed body. */
  readonly payload: unknown;
  /** Reads a request header by its lower-case name. */
  header(name: string): string | undefined;
}

/**
 * Where a value (the event id, the event type) comes from: a header (the first of several
 * names that is present), a dot path into the parsed body, or a function.
 */
export type ValueSource =
  | {
      /** A header name, or several: the first one present is read. */
      readonly header: string | readonly string[];
    }
  | {
      /** A dot path into the parsed body, e.g. `"id"` or `"event.id"`. */
      readonly body: string;
    }
  | ((context: ExtractContext) => string | undefined);

/** Where the signed timestamp is written, and in which unit. */
export type TimestampSource =
  /** Its own header, e.g. `webhook-timestamp`. */
  | {
      /** The header name, or several: the first one present is read. */
      readonly header: string | readonly string[];
      /** Seconds or milliseconds since the epoch. */
      readonly unit: TimestampUnit;
    }
  /** An entry of the signature header, e.g. `t` in Stripe's `t=…,v1=…`. */
  | {
      /** The entry's key in the signature header (needs `signature.pairs`). */
      readonly signatureKey: string;
      /** Seconds or milliseconds since the epoch. */
      readonly unit: TimestampUnit;
    }
  /** A field of the (signed) body, e.g. Linear's `webhookTimestamp`; checked after the signature. */
  | {
      /** A dot path into the parsed body. */
      readonly body: string;
      /** Seconds or milliseconds since the epoch. */
      readonly unit: TimestampUnit;
    };

/** How the signature header is written. Give at most one of `prefix`, `pairs`, `list`. */
export interface HmacSignatureFormat {
  /** The header carrying the signature. With several names, the first present is read and the first is written. */
  readonly header: string | readonly string[];
  /** How the digest is encoded. @default "hex" */
  readonly encoding?: "hex" | "base64";
  /** One signature after a fixed prefix, e.g. `"sha256="` (GitHub) or `"v0="` (Slack). @default "" */
  readonly prefix?: string;
  /**
   * `key=value` entries, e.g. Stripe's `t=1700000000,v1=<hex>,v1=<hex>`: every entry named
   * `key` is a candidate signature.
   */
  readonly pairs?: {
    /** Between entries, e.g. `","`. */
    readonly separator: string;
    /** The key of signature entries, e.g. `"v1"`. */
    readonly key: string;
  };
  /** A list of versioned signatures, e.g. Standard Webhooks' `v1,<b64> v1,<b64>`; other versions are skipped. */
  readonly list?: {
    /** Between signatures, e.g. `" "`. */
    readonly separator: string;
    /** The version prefix of the signatures to check, e.g. `"v1,"`. */
    readonly prefix: string;
  };
}

/** Options of {@link hmacScheme}. */
export interface HmacSchemeOptions {
  /** The scheme's name, e.g. `"acme"`: shown in errors and used as the idempotency namespace. */
  readonly name: string;
  /** The signing secret; several for rotation (any may match; the first signs). */
  readonly secret: string | readonly string[];
  /** How a secret string becomes key bytes. @default "utf8" */
  readonly secretFormat?: SecretFormat;
  /** @default "sha256" */
  readonly algorithm?: HmacAlgorithm;
  /** The signature header. */
  readonly signature: HmacSignatureFormat;
  /**
   * The signed bytes as a template over `{body}`, `{timestamp}`, `{id}`, `{url}` and
   * `{method}`, e.g. `"{timestamp}.{body}"`. Values are used exactly as the request wrote
   * them. @default "{body}"
   */
  readonly signedContent?: string;
  /** Where the signed timestamp is; omit for providers that sign none. */
  readonly timestamp?: TimestampSource;
  /** The event id (the idempotency key). */
  readonly id?: ValueSource;
  /** The event type. */
  readonly type?: ValueSource;
  /** Accepted clock difference, both ways, in seconds; `Infinity` disables. @default 300 */
  readonly toleranceSeconds?: number;
  /** Reshapes the parsed payload after verification (e.g. Slack's `payload=` form field). */
  readonly transformPayload?: (payload: unknown, context: ExtractContext) => unknown;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node (tests of the edge path). @default node:crypto when available */
  readonly crypto?: CryptoPreference;
  /** Answers a verified handshake event with the response the provider expects. */
  readonly handshake?: (event: VerifiedWebhook<unknown>) => WebhookResponse | undefined;
  /** Headers always sent by `signWebhook` (e.g. a fixed version header). */
  readonly staticHeaders?: Readonly<Record<string, string>>;
}

/** The common options of the preset factories. */
export interface PresetOptions {
  /** The signing secret; several for rotation (any may match; the first signs). */
  readonly secret: string | readonly string[];
  /**
   * Accepted clock difference, both ways, in seconds (schemes that sign a timestamp);
   * `Infinity` disables the check.
   * @default the provider's window: 300 for most (Stripe, Standard Webhooks, Slack, …; see docs/providers.md)
   */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

type Placeholder = "body" | "timestamp" | "id" | "url" | "method";
type Segment = string | { readonly ref: Exclude<Placeholder, "body"> };
interface Template {
  readonly before: readonly Segment[];
  readonly after: readonly Segment[];
  readonly hasBody: boolean;
  readonly uses: ReadonlySet<Placeholder>;
}

const PLACEHOLDER_RE = /\{([a-z]+)\}/g;
const PLACEHOLDERS = new Set<string>(["body", "timestamp", "id", "url", "method"]);

function compileTemplate(template: string, where: string): Template {
  const before: Segment[] = [];
  const after: Segment[] = [];
  const uses = new Set<Placeholder>();
  let target = before;
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER_RE)) {
    const name = m[1]!;
    if (!PLACEHOLDERS.has(name)) throw new TypeError(`hookguard: ${where}: \`signedContent\` has an unknown placeholder {${name}}; use {body}, {timestamp}, {id}, {url} or {method}`);
    if (m.index > last) target.push(template.slice(last, m.index));
    last = m.index + m[0].length;
    if (name === "body") {
      if (uses.has("body")) throw new TypeError(`hookguard: ${where}: \`signedContent\` may contain {body} only once`);
      target = after;
    } else {
      target.push({ ref: name as Exclude<Placeholder, "body"> });
    }
    uses.add(name as Placeholder);
  }
  if (last < template.length) target.push(template.slice(last));
  return { before, after, hasBody: uses.has("body"), uses };
}

function names(header: string | readonly string[]): readonly string[] {
  return (typeof header === "string" ? [header] : header).map((h) => h.toLowerCase());
}

/**
 * How the scheme reads a header: from a `SchemeRequest` (a caller of `verify`), or straight
 * from the request's headers (`verifyRequest`'s direct entry). Module-level functions, so
 * no request pays for a closure to read its headers.
 */
type HeaderGet = (source: unknown, name: string) => string | undefined;
const fromSchemeRequest: HeaderGet = (req, name) => (req as SchemeRequest).header(name);
const fromHeaders: HeaderGet = (headers, name) => readHeader(headers as WebhookHeaders, name);

function firstHeader(source: unknown, get: HeaderGet, headerNames: readonly string[]): string | undefined {
  for (let i = 0; i < headerNames.length; i++) {
    const v = get(source, headerNames[i]!);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Reads a value from the verified payload and the request's headers. */
type Extractor = (payload: unknown, source: unknown, get: HeaderGet) => string | undefined;

/** The context a user's extractor or `transformPayload` sees (built only for them). */
function extractContext(payload: unknown, source: unknown, get: HeaderGet): ExtractContext {
  return { payload, header: (n) => get(source, n) };
}

function extractor(source: ValueSource | undefined, read: (list: readonly string[]) => readonly string[]): Extractor | undefined {
  if (source === undefined) return undefined;
  // Only a function needs a context object: header and body sources read directly, so the
  // common presets allocate none per request.
  if (typeof source === "function") return (payload, src, get) => source(extractContext(payload, src, get));
  if ("header" in source) {
    const list = read(names(source.header));
    return (_payload, src, get) => firstHeader(src, get, list);
  }
  const path = source.body.split(".");
  return (payload) => readPath(payload, path);
}

/**
 * `s.trim()`, skipping the call when both ends are visible ASCII (the usual case: providers
 * write no spaces, and a header entry is trimmed on every request).
 */
function trim(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(n - 1);
  return a > 32 && a < 127 && z > 32 && z < 127 ? s : s.trim();
}

function fill(segments: readonly Segment[], timestamp: string | undefined, id: string | undefined, url: string | undefined, method: string | undefined): string {
  let s = "";
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (typeof seg === "string") s += seg;
    else s += (seg.ref === "timestamp" ? timestamp : seg.ref === "id" ? id : seg.ref === "url" ? url : method) ?? "";
  }
  return s;
}

/**
 * Describes an HMAC webhook scheme. Key material is prepared once, here; each request then
 * costs one HMAC per configured secret (stopping at the first that matches).
 *
 * @example
 * ```ts
 * import { hmacScheme } from "hookguard";
 * // "X-Acme-Signature: t=1700000000,s=<hex HMAC-SHA256 of `${t}.${body}`>"
 * const acme = hmacScheme({
 *   name: "acme",
 *   secret: process.env.ACME_SECRET!,
 *   signature: { header: "x-acme-signature", pairs: { separator: ",", key: "s" } },
 *   timestamp: { signatureKey: "t", unit: "s" },
 *   signedContent: "{timestamp}.{body}",
 *   id: { body: "id" },
 *   type: { body: "type" },
 * });
 * ```
 */
export function hmacScheme<TPayload = unknown>(options: HmacSchemeOptions): WebhookScheme<TPayload> {
  const name = options?.name;
  if (typeof name !== "string" || name.length === 0) throw new TypeError("hookguard: hmacScheme() needs `name`: a non-empty string such as \"acme\"");
  const where = `hmacScheme({ name: ${JSON.stringify(name)} })`;
  return buildHmacScheme(options, where);
}

/**
 * @internal Builds a scheme; `where` names the factory in construction errors. `readFirst`
 * maps a header name to one read before it (Standard Webhooks' `svix-*` beside the
 * `webhook-*` it signs): the first name of each list is still the one written. `jsonOnly`:
 * the provider sends JSON and nothing else, so the body is parsed as JSON without reading
 * `Content-Type` (as its official SDK does).
 */
export function buildHmacScheme<TPayload>(options: HmacSchemeOptions, where: string, readFirst?: Readonly<Record<string, string>>, jsonOnly = false): WebhookScheme<TPayload> {
  const {
    name,
    secret,
    secretFormat = "utf8",
    algorithm = "sha256",
    signature,
    signedContent = "{body}",
    timestamp,
    toleranceSeconds: toleranceOption,
    transformPayload,
    crypto,
    handshake,
    staticHeaders = {},
  } = options;

  if (!(algorithm in digestLength)) throw new TypeError(`hookguard: ${where}: \`algorithm\` must be "sha1", "sha256" or "sha512", got ${JSON.stringify(algorithm)}`);
  if (!signature || (typeof signature.header !== "string" && !Array.isArray(signature.header)) || names(signature.header).length === 0) {
    throw new TypeError(`hookguard: ${where}: \`signature.header\` must name the header that carries the signature`);
  }
  const formats = [signature.prefix !== undefined && signature.prefix !== "", signature.pairs !== undefined, signature.list !== undefined].filter(Boolean).length;
  if (formats > 1) throw new TypeError(`hookguard: ${where}: give at most one of \`signature.prefix\`, \`signature.pairs\` and \`signature.list\``);
  const encoding = signature.encoding ?? "hex";
  if (encoding !== "hex" && encoding !== "base64") throw new TypeError(`hookguard: ${where}: \`signature.encoding\` must be "hex" or "base64"`);
  if (signature.pairs && (!signature.pairs.separator.trim() || !signature.pairs.key)) throw new TypeError(`hookguard: ${where}: \`signature.pairs\` needs a non-blank \`separator\` and a \`key\``);
  if (signature.list && (!signature.list.separator || !signature.list.prefix)) throw new TypeError(`hookguard: ${where}: \`signature.list\` needs \`separator\` and \`prefix\``);
  const template = compileTemplate(signedContent, where);
  if (template.uses.has("timestamp") && (!timestamp || "body" in timestamp)) {
    throw new TypeError(`hookguard: ${where}: \`signedContent\` uses {timestamp}, so \`timestamp\` must say which header or signature entry carries it`);
  }
  if (timestamp && "signatureKey" in timestamp && !signature.pairs) {
    throw new TypeError(`hookguard: ${where}: \`timestamp.signatureKey\` needs \`signature.pairs\``);
  }
  if (template.uses.has("id") && (!options.id || typeof options.id === "function" || !("header" in options.id))) {
    throw new TypeError(`hookguard: ${where}: \`signedContent\` uses {id}, so \`id\` must name the header that carries it`);
  }
  const toleranceSeconds = timestamp ? assertTolerance(toleranceOption ?? 300, `${where}: \`toleranceSeconds\``) : undefined;

  const impl = resolveCrypto(crypto);
  const secrets = secretList(secret, where);
  const keys: HmacKey[] = secrets.map((s, i) =>
    prepareHmacKey(algorithm, secretBytes(s, secretFormat, where, typeof secret === "string" ? "secret" : `secret[${i}]`), impl),
  );
  const sigLength = digestLength[algorithm];
  // The names read, in order: a `readFirst` name, then the list as given.
  const readOrder = (list: readonly string[]): readonly string[] => (readFirst ? list.flatMap((n) => (readFirst[n] !== undefined ? [readFirst[n]!, n] : [n])) : list);
  const sigHeaders = names(signature.header);
  const sigHeadersRead = readOrder(sigHeaders);
  const sigHeaderLabel = sigHeaders[0]!;
  const prefix = signature.prefix ?? "";
  const decode = encoding === "hex" ? hexToBytes : base64ToBytes;
  const encode = encoding === "hex" ? bytesToHex : bytesToBase64;
  const pairSep = signature.pairs?.separator.trim();
  const pairKey = signature.pairs?.key;
  const listSep = signature.list?.separator;
  const listPrefix = signature.list?.prefix ?? "";
  const tsKey = timestamp && "signatureKey" in timestamp ? timestamp.signatureKey : undefined;
  const tsHeaders = timestamp && "header" in timestamp ? names(timestamp.header) : undefined;
  const tsHeadersRead = tsHeaders && readOrder(tsHeaders);
  const tsBodyPath = timestamp && "body" in timestamp ? timestamp.body.split(".") : undefined;
  const tsUnit = timestamp?.unit;
  if (tsUnit !== undefined && tsUnit !== "s" && tsUnit !== "ms" && tsUnit !== "rfc3339") throw new TypeError(`hookguard: ${where}: \`timestamp.unit\` must be "s", "ms" or "rfc3339"`);
  const checksTimestamp = tsKey !== undefined || tsHeaders !== undefined;
  const idHeaders = options.id && typeof options.id !== "function" && "header" in options.id ? names(options.id.header) : undefined;
  const idHeadersRead = idHeaders && readOrder(idHeaders);
  const signsId = template.uses.has("id");
  const typeHeaders = options.type && typeof options.type !== "function" && "header" in options.type ? names(options.type.header) : undefined;
  const getId = extractor(options.id, readOrder);
  const getType = extractor(options.type, readOrder);
  const expected = signature.pairs
    ? `${tsKey ? `${tsKey}=<timestamp>${signature.pairs.separator}` : ""}${pairKey}=<${encoding}>`
    : signature.list
      ? `${signature.list.prefix}<${encoding}>`
      : `${prefix}<${encoding}>`;

  const bodyOnly = template.hasBody && template.before.length === 0 && template.after.length === 0;
  const missingSignature: VerifyFailure = Object.freeze({ ok: false, code: "missing_header", header: sigHeaderLabel });
  const mismatch: VerifyFailure = Object.freeze({ ok: false, code: "signature_mismatch", header: sigHeaderLabel });

  function malformed(detail: string, header = sigHeaderLabel): VerifyFailure {
    return { ok: false, code: "malformed_header", header, detail };
  }

  /** True if the digest equals one of the candidates (at most one HMAC's worth of compares each). */
  function matches(digest: Uint8Array, first: Uint8Array, more: readonly Uint8Array[] | undefined): boolean {
    if (timingSafeEqual(digest, first, impl)) return true;
    if (more !== undefined) for (let i = 0; i < more.length; i++) if (timingSafeEqual(digest, more[i]!, impl)) return true;
    return false;
  }

  /** After the signature matched (`secretIndex` ≥ 0): parse, check a body timestamp, build the event. */
  function finish(
    source: unknown,
    get: HeaderGet,
    body: string | Uint8Array,
    secretIndex: number,
    timestampMs: number | undefined,
    signedId: string | undefined,
    nowMs: number | undefined,
    tolerance: number | undefined,
  ): VerifyOutcome<TPayload> {
    if (secretIndex < 0) return mismatch;
    const parsed = jsonOnly ? parseJson(body) : parseBody(body, get(source, "content-type"));
    if (parsed === INVALID_BODY) return { ok: false, code: "invalid_json" };
    if (tsBodyPath !== undefined) {
      const tsRaw = readPath(parsed, tsBodyPath);
      if (tsRaw === undefined) return { ok: false, code: "timestamp_missing", detail: `the body has no ${tsBodyPath.join(".")} field` };
      timestampMs = parseTimestamp(tsRaw, tsUnit!);
      if (timestampMs === undefined) return { ok: false, code: "timestamp_missing", detail: `the body's ${tsBodyPath.join(".")} field is not a timestamp` };
      const tooFar = checkWindow(timestampMs, nowMs ?? Date.now(), tolerance ?? toleranceSeconds!, undefined);
      if (tooFar) return tooFar;
    }
    const payload = (transformPayload ? transformPayload(parsed, extractContext(parsed, source, get)) : parsed) as TPayload;
    return {
      ok: true,
      webhook: {
        // A signed id was read from its header already: the same names, the same value.
        id: signsId ? signedId : getId?.(payload, source, get),
        type: getType?.(payload, source, get),
        timestamp: timestampMs === undefined ? undefined : new Date(timestampMs),
        payload,
        rawBody: body,
        scheme: name,
        secretIndex,
      },
    };
  }

  async function verifyAsync(
    source: unknown,
    get: HeaderGet,
    body: string | Uint8Array,
    head: string,
    signed: string | Uint8Array,
    tail: string,
    first: Uint8Array,
    more: readonly Uint8Array[] | undefined,
    timestampMs: number | undefined,
    id: string | undefined,
    nowMs: number | undefined,
    tolerance: number | undefined,
  ): Promise<VerifyOutcome<TPayload>> {
    for (let i = 0; i < keys.length; i++) {
      if (matches(await keys[i]!.mac(head, signed, tail), first, more)) return finish(source, get, body, i, timestampMs, id, nowMs, tolerance);
    }
    return mismatch;
  }

  /**
   * The whole verification, reading headers through `get`. Checks run cheapest first: the
   * header's shape, the timestamp window, then one HMAC per secret; the body is parsed only
   * after a match. One function with locals, not a chain of small objects: this runs for
   * every request.
   */
  function run(
    source: unknown,
    get: HeaderGet,
    body: string | Uint8Array,
    url: string | undefined,
    method: string | undefined,
    nowMs: number | undefined,
    tolerance: number | undefined,
  ): VerifyOutcome<TPayload> | Promise<VerifyOutcome<TPayload>> {
    const raw = firstHeader(source, get, sigHeadersRead);
    if (raw === undefined) return missingSignature;
    // Candidate signatures, decoded; one of the wrong length can never match and is dropped
    // before any HMAC. Most headers carry one: `more` is allocated only for a second.
    let first: Uint8Array | undefined;
    let more: Uint8Array[] | undefined;
    let tsRaw: string | undefined;
    if (pairSep !== undefined) {
      const items = raw.split(pairSep);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const eq = item.indexOf("=");
        if (eq < 0) continue;
        const key = trim(item.slice(0, eq));
        if (key === tsKey) {
          const value = trim(item.slice(eq + 1));
          // Two different timestamps in one header is not something a provider sends.
          if (tsRaw !== undefined && tsRaw !== value) return malformed(`it carries more than one ${tsKey}= entry`);
          tsRaw = value;
        } else if (key === pairKey) {
          const bytes = decode(trim(item.slice(eq + 1)));
          if (bytes !== undefined && bytes.byteLength === sigLength) {
            if (first === undefined) first = bytes;
            else (more ??= []).push(bytes);
          }
        }
      }
    } else if (listSep !== undefined) {
      const items = raw.split(listSep);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (!item.startsWith(listPrefix)) continue;
        const bytes = decode(item.slice(listPrefix.length));
        if (bytes !== undefined && bytes.byteLength === sigLength) {
          if (first === undefined) first = bytes;
          else (more ??= []).push(bytes);
        }
      }
    } else {
      if (!raw.startsWith(prefix)) return malformed(`expected ${expected}`);
      const bytes = decode(prefix.length === 0 ? raw : raw.slice(prefix.length));
      if (bytes !== undefined && bytes.byteLength === sigLength) first = bytes;
    }
    if (first === undefined) return malformed(`expected ${expected}`);

    let timestampMs: number | undefined;
    if (checksTimestamp) {
      let tsHeader = sigHeaderLabel;
      if (tsHeadersRead !== undefined) {
        tsRaw = firstHeader(source, get, tsHeadersRead);
        tsHeader = tsHeaders![0]!;
      }
      if (tsRaw === undefined) return { ok: false, code: "timestamp_missing", header: tsHeader };
      timestampMs = parseTimestamp(tsRaw, tsUnit!);
      if (timestampMs === undefined) return malformed(`the timestamp is not ${tsUnit === "rfc3339" ? "an RFC 3339 date" : `a whole number of ${tsUnit === "s" ? "seconds" : "milliseconds"}`}`, tsHeader);
      // Checked before any HMAC: a replayed or stale request costs us nothing.
      nowMs ??= Date.now();
      const tooFar = checkWindow(timestampMs, nowMs, tolerance ?? toleranceSeconds!, tsHeader);
      if (tooFar) return tooFar;
    }

    let id: string | undefined;
    if (signsId) {
      id = firstHeader(source, get, idHeadersRead!);
      if (id === undefined) return { ok: false, code: "missing_header", header: idHeaders![0] };
    }
    // The body alone (GitHub, Shopify, …): nothing to fill in.
    const head = bodyOnly ? "" : fill(template.before, tsRaw, id, url, method);
    const signed = template.hasBody ? body : "";
    const tail = bodyOnly ? "" : fill(template.after, tsRaw, id, url, method);
    if (impl === "web") return verifyAsync(source, get, body, head, signed, tail, first, more, timestampMs, id, nowMs, tolerance);
    // node:crypto is synchronous: no promise on the hot path.
    for (let i = 0; i < keys.length; i++) {
      if (matches(keys[i]!.mac(head, signed, tail) as Uint8Array, first, more)) return finish(source, get, body, i, timestampMs, id, nowMs, tolerance);
    }
    return mismatch;
  }

  const verify = withFastVerify<TPayload>(
    (req, ctx) => run(req, fromSchemeRequest, req.body, req.url, req.method, ctx.nowMs, ctx.toleranceSeconds),
    (body, headers, url, method, nowMs, tolerance) => run(headers, fromHeaders, body, url, method, nowMs, tolerance),
  );

  return {
    name,
    toleranceSeconds,
    usesUrl: template.uses.has("url"),
    ...(handshake ? { handshake: handshake as (event: VerifiedWebhook<TPayload>) => WebhookResponse | undefined } : {}),
    verify,
    async sign(body, o: ResolvedSignOptions) {
      const headers: Record<string, string> = { "content-type": o.contentType, ...staticHeaders };
      const tsRaw = tsUnit !== undefined && !tsBodyPath ? formatTimestamp(o.timestampMs, tsUnit) : undefined;
      const id = idHeaders ? (o.id ?? randomId()) : o.id;
      const head = fill(template.before, tsRaw, id, o.url, o.method);
      const tail = fill(template.after, tsRaw, id, o.url, o.method);
      const sig = encode(await keys[0]!.mac(head, template.hasBody ? body : "", tail));
      const sigHeader = sigHeaders[0]!;
      if (signature.pairs) {
        headers[sigHeader] = `${tsKey ? `${tsKey}=${tsRaw}${signature.pairs.separator}` : ""}${pairKey}=${sig}`;
      } else if (signature.list) {
        headers[sigHeader] = `${signature.list.prefix}${sig}`;
      } else {
        headers[sigHeader] = `${prefix}${sig}`;
      }
      if (tsHeaders && tsRaw !== undefined) headers[tsHeaders[0]!] = tsRaw;
      if (idHeaders && id !== undefined) headers[idHeaders[0]!] = id;
      if (typeHeaders && o.type !== undefined) headers[typeHeaders[0]!] = o.type;
      return headers;
    },
  };
}
