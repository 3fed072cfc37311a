// Shared by the *.prop.test.ts files of this folder: the schemes under test described as
// data (where each one reads its signature, timestamp and id), arbitraries for secrets,
// timestamps and header values, and an outcome type that both crypto paths can be compared on.
// Also by every verification property of test/unit: the run count and the timeouts.
import { Buffer } from "node:buffer";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { expect } from "vitest";
import { WebhookVerificationError, isWebhookVerificationError, verificationErrorStatus } from "../../src/errors";
import { github } from "../../src/schemes/github";
import { hmacScheme } from "../../src/schemes/hmac";
import { shopify } from "../../src/schemes/shopify";
import { slack } from "../../src/schemes/slack";
import { standardWebhooks } from "../../src/schemes/standard-webhooks";
import { stripe } from "../../src/schemes/stripe";
import { signWebhook } from "../../src/sign";
import type { VerifiedWebhook, VerifyOutcome, WebhookBody, WebhookHeaders, WebhookScheme } from "../../src/types";
import { verifyRequest, verifyWebhook } from "../../src/verify";
import { isCI } from "../helpers/ci";

/** Both implementations: node:crypto (the fast path) and Web Crypto forced on Node (the edge path). */
export const IMPLS = ["node", "web"] as const;
export type Impl = (typeof IMPLS)[number];

/** Runs per property in CI when `HOOKGUARD_FC_RUNS` is not set. */
export const CI_RUNS = 10_000;
/** Runs per property locally when `HOOKGUARD_FC_RUNS` is not set: `npm test` stays quick. */
export const LOCAL_RUNS = 200;

/** `HOOKGUARD_FC_RUNS` if set, else {@link CI_RUNS} in CI, else {@link LOCAL_RUNS}. */
export function readRuns(env: Readonly<Record<string, string | undefined>> = process.env, ci: boolean = isCI()): number {
  const raw = env.HOOKGUARD_FC_RUNS;
  if (raw === undefined || raw === "") return ci ? CI_RUNS : LOCAL_RUNS;
  const n = Number(raw);
  if (!/^[1-9][0-9]*$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`HOOKGUARD_FC_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Runs per verification property: every property of this folder but the receiver's
 * scheduler properties, and in test/unit those of the decoders, DER and X.509 parsers,
 * HMAC and signature primitives, `hmacScheme` and error messages. This is the one place
 * the count is decided:
 *
 * - `HOOKGUARD_FC_RUNS`, when set: any positive integer, e.g. `HOOKGUARD_FC_RUNS=100000 npm test`
 *   for a longer campaign;
 * - else 10,000 ({@link CI_RUNS}) when `CI` is set (to anything but "", "0" or "false"), as
 *   `.ci/run` does;
 * - else 200 ({@link LOCAL_RUNS}), so a local `npm test` stays quick.
 *
 * Each test's timeout grows with it: see {@link propTimeout}.
 */
export const NUM_RUNS = readRuns();

/** fast-check parameters for every verification property. */
export function params(): fc.Parameters<unknown> {
  return { numRuns: NUM_RUNS };
}

/** Vitest's own per-test timeout (vitest.config.ts): no property gets less. */
const MIN_TIMEOUT_MS = 30_000;

/**
 * The timeout of a test that runs one property {@link NUM_RUNS} times, for a property
 * measured at `msPerRun` milliseconds a run (its slowest case in three 10,000-run passes on
 * the shared 2-core machine): three times that, and never less than vitest's 30 s. Pass it
 * as the third argument of `it`, so a long run (CI, or `HOOKGUARD_FC_RUNS` raised) does
 * not time out while a hung one still does.
 */
export function propTimeout(msPerRun: number): number {
  return Math.max(MIN_TIMEOUT_MS, Math.ceil(3 * NUM_RUNS * msPerRun));
}

// ---------------------------------------------------------------------------------------
// Assertions

/**
 * `expect(actual).toEqual(expected)`, minus vitest's bookkeeping when they are equal. Each
 * `expect` call costs some 10-20 µs, a tenth of a run, and at 10,000 runs a property calls
 * it 10^4-10^5 times; the deep strict comparison is stricter than `toEqual`, and anything it
 * rejects goes through `toEqual` for the verdict and its diff.
 */
export function expectEqual(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

/** `expect(actual).toBe(expected)`, likewise without the bookkeeping when it holds. */
export function expectBe(actual: unknown, expected: unknown): void {
  if (!Object.is(actual, expected)) expect(actual).toBe(expected);
}

// ---------------------------------------------------------------------------------------
// Outcomes

/** What a verification came to, in a shape two runs can be compared on with `toEqual`. */
export type Outcome =
  | {
      readonly ok: true;
      readonly id: string | undefined;
      readonly type: string | undefined;
      readonly timestampMs: number | undefined;
      readonly payload: unknown;
      readonly secretIndex: number;
      readonly scheme: string;
    }
  | { readonly ok: false; readonly code: string };

/** A verified webhook as an {@link Outcome}. */
export function webhookOutcome(w: VerifiedWebhook<unknown>): Outcome {
  return { ok: true, id: w.id, type: w.type, timestampMs: w.timestamp?.getTime(), payload: w.payload, secretIndex: w.secretIndex, scheme: w.scheme };
}

/**
 * Runs `verifyWebhook` and folds its result into an {@link Outcome}. Anything but a
 * `WebhookVerificationError` (with the status its code maps to) fails the property.
 */
export async function verifyOutcome(scheme: WebhookScheme<unknown>, request: { body: unknown; headers: WebhookHeaders; url?: string; method?: string }, options: { now?: number; toleranceSeconds?: number } = {}): Promise<Outcome> {
  try {
    return webhookOutcome(await verifyWebhook(request as { body: WebhookBody; headers: WebhookHeaders }, scheme, options));
  } catch (error) {
    if (!(error instanceof WebhookVerificationError) || !isWebhookVerificationError(error)) {
      throw new Error(`verifyWebhook rejected with something other than a WebhookVerificationError: ${String(error)}`, { cause: error });
    }
    if (error.status !== verificationErrorStatus[error.code]) throw new Error(`code ${error.code} came with status ${error.status}`, { cause: error });
    return { ok: false, code: error.code };
  }
}

/**
 * Runs the non-throwing path (`verifyRequest`, what the receiver and adapters use). It
 * must never throw nor reject: every failure is a value.
 */
export async function requestOutcome(scheme: WebhookScheme<unknown>, request: { body: unknown; headers: WebhookHeaders; url?: string; method?: string }, options: { now?: number } = {}): Promise<Outcome> {
  let outcome: VerifyOutcome<unknown>;
  try {
    outcome = await verifyRequest(request as { body: WebhookBody; headers: WebhookHeaders }, scheme, options);
  } catch (error) {
    throw new Error(`verifyRequest threw instead of returning a failure: ${String(error)}`, { cause: error });
  }
  return outcome.ok ? webhookOutcome(outcome.webhook) : { ok: false, code: outcome.code };
}

// ---------------------------------------------------------------------------------------
// Secrets

const BLOCK_BYTES = { sha1: 64, sha256: 64, sha512: 128 } as const;
type Algorithm = keyof typeof BLOCK_BYTES;

/**
 * The key an HMAC really uses: keys up to the block size are zero-padded, so `k` and
 * `k\0` are the same key (RFC 2104), and a rotation test needs secrets that differ as keys.
 */
function hmacKeyId(bytes: Uint8Array, algorithm: Algorithm): string {
  let end = bytes.length;
  if (end <= BLOCK_BYTES[algorithm]) while (end > 0 && bytes[end - 1] === 0) end--;
  return Buffer.from(bytes.subarray(0, end)).toString("hex");
}

interface SecretKind {
  readonly arbitrary: fc.Arbitrary<string>;
  /** The key bytes the scheme derives from the secret. */
  bytes(secret: string): Uint8Array;
}

/** Secrets used whole as UTF-8 (Stripe, GitHub, Slack, Shopify): any text, long ones included. */
const utf8Secret: SecretKind = {
  arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 90 })),
  bytes: (s) => Buffer.from(s, "utf8"),
};

function base64Secret(prefix: string): SecretKind {
  return {
    // Dashboards hand out canonical base64; some copies lose their padding.
    arbitrary: fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.boolean(), fc.boolean())
      .map(([b, withPrefix, unpadded]) => {
        const b64 = Buffer.from(b).toString("base64");
        return (withPrefix ? prefix : "") + (unpadded ? b64.replace(/=+$/, "") : b64);
      }),
    bytes: (s) => Buffer.from(s.startsWith(prefix) && prefix !== "" ? s.slice(prefix.length) : s, "base64"),
  };
}

// ---------------------------------------------------------------------------------------
// The schemes under test

export type Encoding = "hex" | "base64";
export type Unit = "s" | "ms" | "rfc3339";

/** What `signWebhook` is asked for, and what verification should then report. */
export interface Sent {
  readonly id: string;
  readonly type: string;
  readonly timestampMs: number;
  readonly url: string;
  readonly method: string | undefined;
}

export interface SchemeCase {
  readonly label: string;
  /** The scheme's `name`. */
  readonly name: string;
  make(secret: string | readonly string[], crypto: Impl, toleranceSeconds?: number): WebhookScheme<unknown>;
  readonly secret: fc.Arbitrary<string>;
  /** Identity of the HMAC key a secret yields (secrets with the same id are the same key). */
  keyId(secret: string): string;
  readonly digestBytes: number;
  readonly signature: {
    /** The names read, in order of preference (the first present wins). */
    readonly read: readonly string[];
    readonly encoding: Encoding;
    /** Where the encoded digest sits in the header value `signWebhook` wrote. */
    span(value: string): readonly [number, number];
  };
  readonly timestamp?: {
    readonly unit: Unit;
    /** The timestamp's own header, in order of preference; absent when it is an entry of the signature header. */
    readonly read?: readonly string[];
    /** Where the timestamp sits in the signature header (entries are trimmed). */
    span?(value: string): readonly [number, number];
  };
  /** A header-carried id that is part of the signed content. */
  readonly signedId?: { readonly read: readonly string[] };
  /** Other headers the scheme reads (id, type, content type), for the robustness properties. */
  readonly otherHeaders: readonly string[];
  /** Other names the provider uses for the same unsigned header (e.g. shopify-topic for x-shopify-topic). */
  readonly aliases?: readonly (readonly string[])[];
  /** URL and method are part of the signed content. */
  readonly signsUrl?: boolean;
  /** The id, type and payload a verified request reports, from the parsed body and what was sent. */
  expected(parsed: unknown, sent: Sent): { id: string | undefined; type: string | undefined; payload: unknown };
}

function field(payload: unknown, key: string): unknown {
  return typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A body field as hookguard's `{ body: "path" }` sources read it: a string, or a finite number as text. */
function bodyValue(payload: unknown, key: string): string | undefined {
  const v = field(payload, key);
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function after(marker: string, until: string): (value: string) => readonly [number, number] {
  return (value) => {
    const at = value.startsWith(marker) ? 0 : value.indexOf(until + marker) + until.length;
    const start = at + marker.length;
    const end = value.indexOf(until, start);
    return [start, end < 0 ? value.length : end];
  };
}

function whole(prefix: string): (value: string) => readonly [number, number] {
  return (value) => [prefix.length, value.length];
}

function slackExpected(parsed: unknown): { id: string | undefined; type: string | undefined; payload: unknown } {
  let payload = parsed;
  const inner = field(parsed, "payload");
  if (typeof inner === "string") {
    try {
      payload = JSON.parse(inner) as unknown;
    } catch {
      // not JSON: the form stays as it is
    }
  }
  const type =
    str(field(payload, "type")) === "event_callback"
      ? str(field(field(payload, "event"), "type"))
      : str(field(payload, "command")) !== undefined
        ? "slash_command"
        : str(field(payload, "type"));
  return { id: str(field(payload, "event_id")) ?? str(field(payload, "trigger_id")), type, payload };
}

const whsec = base64Secret("whsec_");
const plainBase64 = base64Secret("");

export const CASES: readonly SchemeCase[] = [
  {
    label: "stripe",
    name: "stripe",
    make: (secret, crypto, toleranceSeconds) => stripe({ secret, crypto, toleranceSeconds }) as WebhookScheme<unknown>,
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha256"),
    digestBytes: 32,
    signature: { read: ["stripe-signature"], encoding: "hex", span: after("v1=", ",") },
    timestamp: { unit: "s", span: after("t=", ",") },
    otherHeaders: ["content-type"],
    expected: (parsed) => ({ id: bodyValue(parsed, "id"), type: bodyValue(parsed, "type"), payload: parsed }),
  },
  {
    label: "github",
    name: "github",
    make: (secret, crypto) => github({ secret, crypto }) as WebhookScheme<unknown>,
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha256"),
    digestBytes: 32,
    signature: { read: ["x-hub-signature-256"], encoding: "hex", span: whole("sha256=") },
    otherHeaders: ["x-github-delivery", "x-github-event", "content-type"],
    expected: (parsed, sent) => ({ id: sent.id, type: sent.type, payload: parsed }),
  },
  {
    label: "standardWebhooks",
    name: "standard-webhooks",
    make: (secret, crypto, toleranceSeconds) => standardWebhooks({ secret, crypto, toleranceSeconds }) as WebhookScheme<unknown>,
    secret: whsec.arbitrary,
    keyId: (s) => hmacKeyId(whsec.bytes(s), "sha256"),
    digestBytes: 32,
    // Svix-branded names win over webhook-* when both are present, as in the svix SDK.
    signature: { read: ["svix-signature", "webhook-signature"], encoding: "base64", span: whole("v1,") },
    timestamp: { unit: "s", read: ["svix-timestamp", "webhook-timestamp"] },
    signedId: { read: ["svix-id", "webhook-id"] },
    otherHeaders: ["content-type"],
    expected: (parsed, sent) => ({ id: sent.id, type: bodyValue(parsed, "type"), payload: parsed }),
  },
  {
    label: "slack",
    name: "slack",
    make: (secret, crypto, toleranceSeconds) => slack({ secret, crypto, toleranceSeconds }) as WebhookScheme<unknown>,
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha256"),
    digestBytes: 32,
    signature: { read: ["x-slack-signature"], encoding: "hex", span: whole("v0=") },
    timestamp: { unit: "s", read: ["x-slack-request-timestamp"] },
    otherHeaders: ["content-type"],
    expected: (parsed) => slackExpected(parsed),
  },
  {
    label: "shopify",
    name: "shopify",
    make: (secret, crypto) => shopify({ secret, crypto }) as WebhookScheme<unknown>,
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha256"),
    digestBytes: 32,
    signature: { read: ["x-shopify-hmac-sha256", "shopify-hmac-sha256"], encoding: "base64", span: whole("") },
    otherHeaders: ["x-shopify-webhook-id", "shopify-webhook-id", "x-shopify-topic", "shopify-topic", "content-type"],
    aliases: [
      ["x-shopify-webhook-id", "shopify-webhook-id"],
      ["x-shopify-topic", "shopify-topic"],
    ],
    expected: (parsed, sent) => ({ id: sent.id, type: sent.type, payload: parsed }),
  },
  {
    // `ts=<ms>;s=<base64 sha512>`: pairs with another separator, ms, sha512, base64.
    label: "hmacScheme pairs ; sha512 base64 ms",
    name: "acme-pairs",
    make: (secret, crypto, toleranceSeconds) =>
      hmacScheme({
        name: "acme-pairs",
        secret,
        crypto,
        toleranceSeconds,
        algorithm: "sha512",
        signature: { header: "x-acme-signature", encoding: "base64", pairs: { separator: ";", key: "s" } },
        timestamp: { signatureKey: "ts", unit: "ms" },
        signedContent: "{timestamp};{body}",
        id: { body: "id" },
        type: { header: "x-acme-event" },
      }),
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha512"),
    digestBytes: 64,
    signature: { read: ["x-acme-signature"], encoding: "base64", span: after("s=", ";") },
    timestamp: { unit: "ms", span: after("ts=", ";") },
    otherHeaders: ["x-acme-event", "content-type"],
    expected: (parsed, sent) => ({ id: bodyValue(parsed, "id"), type: sent.type, payload: parsed }),
  },
  {
    // `x-acme-signatures: v2=<hex sha1>` list, RFC 3339 timestamp header, signed id, base64 secret.
    label: "hmacScheme list sha1 hex rfc3339",
    name: "acme-list",
    make: (secret, crypto, toleranceSeconds) =>
      hmacScheme({
        name: "acme-list",
        secret,
        secretFormat: "base64",
        crypto,
        toleranceSeconds,
        algorithm: "sha1",
        signature: { header: "x-acme-signatures", encoding: "hex", list: { separator: ",", prefix: "v2=" } },
        timestamp: { header: "x-acme-time", unit: "rfc3339" },
        signedContent: "{id}:{timestamp}:{body}",
        id: { header: "x-acme-id" },
        type: { body: "kind" },
      }),
    secret: plainBase64.arbitrary,
    keyId: (s) => hmacKeyId(plainBase64.bytes(s), "sha1"),
    digestBytes: 20,
    signature: { read: ["x-acme-signatures"], encoding: "hex", span: whole("v2=") },
    timestamp: { unit: "rfc3339", read: ["x-acme-time"] },
    signedId: { read: ["x-acme-id"] },
    otherHeaders: ["content-type"],
    expected: (parsed, sent) => ({ id: sent.id, type: bodyValue(parsed, "kind"), payload: parsed }),
  },
  {
    // `sha512=<base64>` prefix, no timestamp.
    label: "hmacScheme prefix sha512 base64",
    name: "acme-prefix",
    make: (secret, crypto) =>
      hmacScheme({
        name: "acme-prefix",
        secret,
        crypto,
        algorithm: "sha512",
        signature: { header: "x-acme-sig", encoding: "base64", prefix: "sha512=" },
        id: { header: "x-acme-delivery" },
        type: { header: "x-acme-event" },
      }),
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha512"),
    digestBytes: 64,
    signature: { read: ["x-acme-sig"], encoding: "base64", span: whole("sha512=") },
    otherHeaders: ["x-acme-delivery", "x-acme-event", "content-type"],
    expected: (parsed, sent) => ({ id: sent.id, type: sent.type, payload: parsed }),
  },
  {
    // Bare hex sha1 under one of two names; ms timestamp header; method and URL signed.
    label: "hmacScheme bare sha1 hex ms url",
    name: "acme-url",
    make: (secret, crypto, toleranceSeconds) =>
      hmacScheme({
        name: "acme-url",
        secret,
        crypto,
        toleranceSeconds,
        algorithm: "sha1",
        signature: { header: ["x-acme-hmac", "acme-hmac"], encoding: "hex" },
        timestamp: { header: "x-acme-timestamp", unit: "ms" },
        signedContent: "{method} {url}\n{timestamp}\n{body}",
        id: { body: "id" },
        type: { header: "x-acme-event" },
      }),
    secret: utf8Secret.arbitrary,
    keyId: (s) => hmacKeyId(utf8Secret.bytes(s), "sha1"),
    digestBytes: 20,
    signature: { read: ["x-acme-hmac", "acme-hmac"], encoding: "hex", span: whole("") },
    timestamp: { unit: "ms", read: ["x-acme-timestamp"] },
    otherHeaders: ["x-acme-event", "content-type"],
    signsUrl: true,
    expected: (parsed, sent) => ({ id: bodyValue(parsed, "id"), type: sent.type, payload: parsed }),
  },
];

export const TIMESTAMPED = CASES.filter((c) => c.timestamp !== undefined);
export const SIGNED_ID = CASES.filter((c) => c.signedId !== undefined);

/** Every case on both crypto paths, for `describe.each`. */
export function matrix(cases: readonly SchemeCase[] = CASES): [string, Impl, SchemeCase][] {
  return cases.flatMap((c) => IMPLS.map((impl): [string, Impl, SchemeCase] => [c.label, impl, c]));
}

// ---------------------------------------------------------------------------------------
// Requests

/** Unique secrets (as HMAC keys) for a rotation list. */
export function secretList(c: SchemeCase, minLength: number, maxLength: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(c.secret, { minLength, maxLength, selector: (s) => c.keyId(s) });
}

/** A clock between 2001 and 2099. */
export const nowArb = fc.integer({ min: Date.UTC(2001, 0, 1), max: Date.UTC(2099, 0, 1) });

/** A tolerance: mostly the default, sometimes anything from 1 s to a week. */
export const toleranceArb = fc.oneof(fc.constant(300), fc.integer({ min: 1, max: 7 * 86_400 }));

/**
 * A timestamp inside `now ± tolerance` (bounds included: exactly ±tolerance passes),
 * representable in the unit, in epoch ms.
 */
export function inWindow(now: number, toleranceSeconds: number, unit: Unit | undefined): fc.Arbitrary<number> {
  const lo = now - toleranceSeconds * 1000;
  const hi = now + toleranceSeconds * 1000;
  if (unit === "s") return fc.integer({ min: Math.ceil(lo / 1000), max: Math.floor(hi / 1000) }).map((s) => s * 1000);
  return fc.integer({ min: lo, max: hi });
}

/** Ids as a sender may write them, Unicode included (plain-record headers carry any string). */
export const idArb = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), fc.uuid());

/** A URL and method for URL-signed schemes; the method is sometimes left to its default. */
export const urlArb = fc.webUrl({ withQueryParameters: true });
export const methodArb = fc.option(fc.constantFrom("POST", "PUT", "PATCH"), { nil: undefined });

export interface SignedRequest {
  readonly body: string | Uint8Array;
  readonly headers: Record<string, string>;
  readonly sent: Sent;
  readonly url: string | undefined;
  readonly method: string | undefined;
}

/** Signs `body` with `scheme` the way a provider would; what was sent is kept for the checks. */
export async function signRequest(c: SchemeCase, scheme: WebhookScheme<unknown>, body: string | Uint8Array, sent: Sent): Promise<SignedRequest> {
  const headers = await signWebhook(body, scheme, {
    id: sent.id,
    type: sent.type,
    timestamp: sent.timestampMs,
    ...(c.signsUrl ? { url: sent.url, ...(sent.method === undefined ? {} : { method: sent.method }) } : {}),
  });
  return { body, headers, sent, url: c.signsUrl ? sent.url : undefined, method: c.signsUrl ? sent.method : undefined };
}

/** The request `verifyWebhook` gets for a signed request, with other headers or body if given. */
export function requestOf(r: SignedRequest, headers: WebhookHeaders = r.headers, body: unknown = r.body): { body: unknown; headers: WebhookHeaders; url?: string; method?: string } {
  return { body, headers, ...(r.url === undefined ? {} : { url: r.url }), ...(r.method === undefined ? {} : { method: r.method }) };
}

/** The header name `signWebhook` wrote among the names a scheme reads. */
export function writtenName(headers: Readonly<Record<string, string>>, read: readonly string[]): string {
  const name = read.find((n) => headers[n] !== undefined);
  if (name === undefined) throw new Error(`signWebhook wrote none of ${read.join(", ")}`);
  return name;
}

/** The shapes a raw body reaches `verifyWebhook` in. */
export const BODY_SHAPES = ["string", "buffer", "uint8array", "offset-view", "arraybuffer"] as const;
export type BodyShape = (typeof BODY_SHAPES)[number];

/** The same bytes in another shape; `offset-view` is a Uint8Array in the middle of a larger buffer. */
export function bodyAs(body: string | Uint8Array, shape: BodyShape): string | Uint8Array | ArrayBuffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  switch (shape) {
    case "string":
      return typeof body === "string" ? body : bytes.toString("utf8");
    case "buffer":
      return bytes;
    case "uint8array":
      return new Uint8Array(bytes);
    case "offset-view": {
      const big = new Uint8Array(bytes.length + 16).fill(0x7b);
      big.set(bytes, 7);
      return big.subarray(7, 7 + bytes.length);
    }
    case "arraybuffer":
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
}

/** The body text as hookguard parses it: UTF-8, a leading BOM kept. */
export function textOf(body: string | Uint8Array | ArrayBuffer): string {
  if (typeof body === "string") return body;
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(body);
}

/** `JSON.parse` as an oracle: the value, or `undefined` for text that is not JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The outcome a correctly signed request must have. */
export function expectedOk(c: SchemeCase, r: SignedRequest, secretIndex: number): Outcome {
  const parsed = parseJson(textOf(r.body));
  if (parsed === undefined) return { ok: false, code: "invalid_json" };
  const e = c.expected(parsed.value, r.sent);
  return { ok: true, id: e.id, type: e.type, timestampMs: c.timestamp ? r.sent.timestampMs : undefined, payload: e.payload, secretIndex, scheme: c.name };
}

// ---------------------------------------------------------------------------------------
// Bodies

/** JSON text: an event with an id and a type around random JSON, or any JSON value at all, Unicode included. */
export const jsonText = fc.oneof(
  fc
    .record({
      id: fc.oneof(fc.string(), fc.integer()),
      type: fc.string({ unit: "grapheme", maxLength: 20 }),
      kind: fc.string(),
      event_id: fc.string(),
      data: fc.jsonValue({ stringUnit: "grapheme", maxDepth: 3 }),
    })
    .chain((event) => fc.constantFrom(0, 2, "\t").map((indent) => JSON.stringify(event, null, indent))),
  fc.json({ stringUnit: "binary", maxDepth: 3 }),
  fc.json({ stringUnit: "grapheme", maxDepth: 3 }),
);

/** Slack-shaped bodies (Events API envelopes, interactivity forms wrapped as JSON), so its id/type rules get exercised. */
export const slackJsonText = fc.oneof(
  fc
    .record({ type: fc.constant("event_callback"), event_id: fc.string(), event: fc.record({ type: fc.string() }) })
    .map((o) => JSON.stringify(o)),
  fc.record({ command: fc.string(), trigger_id: fc.string() }).map((o) => JSON.stringify(o)),
  fc.record({ type: fc.string(), trigger_id: fc.string() }).map((o) => JSON.stringify({ payload: JSON.stringify(o) })),
  jsonText,
);

/** Text or bytes that are not JSON (checked with JSON.parse as the oracle). */
export const nonJsonBody = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.json().map((j) => `${j}}`),
    fc.json().map((j) => `\uFEFF${j}`),
  )
  .filter((b) => parseJson(textOf(b)) === undefined);

// ---------------------------------------------------------------------------------------
// Header values

const TOKENS = [
  "t=", "v1=", "v0=", "v1,", "v2,", "v2=", "s=", "ts=", "sha256=", "sha512=", "whsec_",
  ",", ";", " ", "  ", "=", "==", "\t", ", ", "\r\n", "\u0000", "é", "\uD800", "🚀",
  "1700000000", "-1", "+1", "1e9", "0x10", "NaN", "Infinity", "2024-01-01T00:00:00Z", "9999999999999999999",
];

/** Header-ish text built from the pieces the schemes split on: commas, equals, spaces, prefixes, digits, hex, base64. */
export const tokenSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TOKENS),
      fc.stringMatching(/^[0-9a-f]{1,128}$/),
      fc.stringMatching(/^[A-Za-z0-9+/]{1,88}={0,2}$/),
      fc.integer().map(String),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(""));

/**
 * Very long values, which a verifier must reject without choking: 10 K to 320 K
 * characters, up to 20 times Node's 16 KiB limit on all of a request's headers, and long
 * enough that quadratic parsing would show. Verification is linear in them: longer values
 * would only cost time, at 10,000 runs a good part of the robustness properties'.
 */
export const hugeValue = fc
  .tuple(fc.constantFrom("a", "0", "v1=", "t=1,", ",", "=", " ", "v1,AAAA ", "A/+=", "é"), fc.integer({ min: 10_000, max: 40_000 }))
  .map(([s, n]) => s.repeat(n));

/** Any header value: ASCII, any UTF-16 (lone surrogates too), graphemes, token soup, huge. */
export const headerValue = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 4, arbitrary: tokenSoup },
  { weight: 1, arbitrary: hugeValue },
);

/** The error `verifyWebhook` rejects with; fails if it resolves. */
export async function verifyError(scheme: WebhookScheme<unknown>, request: { body: unknown; headers: WebhookHeaders; url?: string; method?: string }, options: { now?: number } = {}): Promise<WebhookVerificationError> {
  try {
    await verifyWebhook(request as { body: WebhookBody; headers: WebhookHeaders }, scheme, options);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw new Error(`verifyWebhook rejected with something other than a WebhookVerificationError: ${String(error)}`, { cause: error });
  }
  throw new Error("verifyWebhook resolved for a request that must be rejected");
}

/** Replaces the code unit at `index` of `s`. */
export function replaceAt(s: string, index: number, replacement: string): string {
  return s.slice(0, index) + replacement + s.slice(index + 1);
}
