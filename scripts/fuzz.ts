// `npm run fuzz`: a long fuzzing campaign (10^6 cases by default) over what an attacker
// controls before a signature is checked: header values and names, the body's bytes and
// shape, the body's framing on the wire. docs/reliability.md lists what each target checks.
//
//   npm run fuzz                                  # 1,000,000 cases, a random seed
//   npm run fuzz -- --cases 50000 --seed 1234
//   npm run fuzz -- --target headers --seed 1234 --case 81731   # replay one case, verbosely
//
// Mutation-based, on a seeded generator: every case is rebuilt from (seed, target, index),
// so a failure prints the exact command that replays it. Each target's invariants come
// from the documented behaviour, not from the code (see the `check` calls).
import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { isDeepStrictEqual, parseArgs } from "node:util";
import * as hookguard from "../src/index";
import { createWebhookReceiver, isWebhookVerificationError, memoryStore, signWebhook, stripe, verificationErrorStatus, verifyWebhook, type VerifyOutcome, type WebhookScheme } from "../src/index";
import { handleWebhooks } from "../src/adapters/node";
import { readNodeBody } from "../src/adapters/internal/node-body";
import { readWebBody } from "../src/adapters/internal/web-body";
import { parsePayload } from "../src/internal/payload";
import { verifyRequest } from "../src/verify";

// ---------------------------------------------------------------------------------------
// Seeded generation

function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const TOKENS = ["t=", "v1=", "v0=", "v1,", ",", ";", " ", "=", "==", "sha256=", "sha1=", "0", "9", "a", "f", "Z", "+", "/", "-", "_", ".", ":", "\t", "\u0000", "\u00ff", "\u00e9", "\ud83d\ude00", "\ud800", "%00", "\\", '"', "'", "1e9", "-1", "NaN", "Infinity", "0x10", "00000000000000000000", "ffffffff", "AAAA", "whsec_", "msg_"];

class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Signature-shaped rubbish: tokens a header parser splits on, digits, encodings, unicode. */
  soup(maxTokens = 12): string {
    let s = "";
    const n = this.range(0, maxTokens);
    for (let i = 0; i < n; i++) {
      const r = this.next();
      if (r < 0.6) s += this.pick(TOKENS);
      else if (r < 0.8) s += this.int(2 ** 31).toString(this.pick([10, 16, 36]));
      else s += String.fromCharCode(this.int(0x3000));
    }
    return s;
  }
}

function caseGen(seed: number, target: string, index: number): Gen {
  const next = sfc32(seed, index, fnv1a(target), 0x9e3779b9);
  for (let i = 0; i < 15; i++) next();
  return new Gen(next);
}

// ---------------------------------------------------------------------------------------
// The schemes under fuzz: every factory that takes `{ secret }` and round-trips a request
// it signed (asymmetric and fetch-based schemes are left to their own property tests).

const FACTORIES = [
  "stripe", "github", "standardWebhooks", "slack", "shopify", "paddle", "linear", "twitch", "zoom", "workos", "calendly", "typeform",
  "intercom", "coinbaseCommerce", "bitbucket", "lemonSqueezy", "sentry", "vercel", "githubLegacy", "clerk", "resend", "twilio", "square",
  "hubspot", "hubspotLegacy", "mailgun", "gitlab",
] as const;

type Impl = "node" | "web";
type Headers_ = Record<string, string | string[]>;

interface Fixture {
  readonly name: string;
  readonly schemes: Record<Impl, WebhookScheme<unknown>>;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly url: string;
  readonly now: number;
  readonly baseline: Outcome;
  /** A changed body byte makes verification fail (false for token-only schemes such as GitLab's). */
  readonly signsBody: boolean;
}

type Outcome = { ok: true; id: string | undefined; type: string | undefined; ts: number | undefined; payload: string } | { ok: false; code: string };

function outcomeOf(o: VerifyOutcome<unknown>): Outcome {
  if (!o.ok) return { ok: false, code: o.code };
  const w = o.webhook;
  return { ok: true, id: w.id, type: w.type, ts: w.timestamp?.getTime(), payload: JSON.stringify(w.payload) ?? "undefined" };
}

interface RequestShape {
  body: unknown;
  headers: unknown;
  url: string;
  method: string;
}

async function outcome(scheme: WebhookScheme<unknown>, req: RequestShape, now: number): Promise<Outcome | { threw: string }> {
  try {
    return outcomeOf(await verifyRequest(req as Parameters<typeof verifyRequest>[0], scheme, { now }));
  } catch (e) {
    return { threw: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

async function buildFixtures(perScheme: number): Promise<{ fixtures: Fixture[]; skipped: string[] }> {
  const fixtures: Fixture[] = [];
  const skipped: string[] = [];
  const g = caseGen(1, "fixtures", 0);
  const b64 = Buffer.from("hookguard fuzz campaign secret!!").toString("base64");
  const secrets = [`whsec_${b64}`, b64, "fuzz-secret-0123456789abcdef"];
  for (const name of FACTORIES) {
    const factory = (hookguard as unknown as Record<string, unknown>)[name];
    if (typeof factory !== "function") {
      skipped.push(`${name} (not exported)`);
      continue;
    }
    let made = 0;
    for (const secret of secrets) {
      if (made > 0) break;
      for (const contentType of ["application/json", "application/x-www-form-urlencoded"]) {
        if (made > 0) break;
        try {
          const schemes = {
            node: (factory as (o: unknown) => WebhookScheme<unknown>)({ secret, crypto: "node" }),
            web: (factory as (o: unknown) => WebhookScheme<unknown>)({ secret, crypto: "web" }),
          };
          for (let i = 0; i < perScheme; i++) {
            const now = Date.UTC(2030, 0, 1) + g.int(86_400_000);
            const id = `evt_${g.int(1e9)}`;
            const body =
              contentType === "application/json"
                ? JSON.stringify({ id, type: "fuzz.event", event_id: id, event: { type: "fuzz.event" }, data: { n: i, text: g.soup(4) } })
                : new URLSearchParams({ id, type: "fuzz.event", n: String(i) }).toString();
            const url = `https://hooks.example.com/webhooks/${name}?n=${i}`;
            const headers = await signWebhook(body, schemes.node, { id, type: "fuzz.event", timestamp: now, url, contentType });
            const base = await outcome(schemes.node, { body, headers, url, method: "POST" }, now);
            if ("threw" in base || !base.ok) throw new Error(`round trip: ${JSON.stringify(base)}`);
            // Still parseable, so only a signature over the body can reject it.
            const changed = contentType === "application/json" ? `${body} ` : `${body}&x=1`;
            const changedOutcome = await outcome(schemes.node, { body: changed, headers, url, method: "POST" }, now);
            const signsBody = !("threw" in changedOutcome) && !changedOutcome.ok;
            fixtures.push({ name, schemes, body, headers, url, now, baseline: base, signsBody });
          }
          made = perScheme;
        } catch {
          // Not this secret format or content type; the next one may fit.
        }
      }
    }
    if (made === 0) skipped.push(name);
  }
  return { fixtures, skipped };
}

// ---------------------------------------------------------------------------------------
// Failures

interface Failure {
  readonly target: string;
  readonly index: number;
  readonly message: string;
  readonly detail: string;
}

let seed = 0;
const failures: Failure[] = [];
let verbose = false;

function fail(target: string, index: number, message: string, detail: unknown): void {
  const text = JSON.stringify(detail, (_k, v: unknown) => (typeof v === "string" && v.length > 300 ? `${v.slice(0, 300)}…(${v.length} chars)` : v instanceof Uint8Array ? `<${v.length} bytes>` : v));
  failures.push({ target, index, message, detail: text });
}

function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

// ---------------------------------------------------------------------------------------
// Target: headers. Valid requests with their headers mutated.

const DIGEST_RE = /[0-9a-fA-F]{40,}|[A-Za-z0-9+/]{27,}={0,2}/g;

/** Changes one character of the longest digest-looking run so that its decoded bytes change. */
function flipDigest(g: Gen, value: string): string | undefined {
  let best: RegExpExecArray | undefined;
  for (const m of value.matchAll(DIGEST_RE)) if (!best || m[0].length > best[0].length) best = m as RegExpExecArray;
  if (!best) return undefined;
  const run = best[0];
  const isHex = /^[0-9a-fA-F]+$/.test(run);
  const alphabet = isHex ? "0123456789abcdef" : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Stay clear of base64's last characters, whose low bits may be padding.
  const usable = isHex ? run.length : run.replace(/=+$/, "").length - 2;
  const p = g.int(usable);
  const current = isHex ? run[p]!.toLowerCase() : run[p]!;
  let replacement = current;
  while (replacement === current) replacement = alphabet[g.int(alphabet.length)]!;
  const at = best.index + p;
  return value.slice(0, at) + replacement + value.slice(at + 1);
}

type HeaderMutation = "benign" | "hostile" | "digest";

function mutateHeaders(g: Gen, fx: Fixture): { headers: unknown; kind: HeaderMutation; ops: string[] } {
  const h: Headers_ = { ...fx.headers };
  const names = Object.keys(h);
  const ops: string[] = [];
  const r = g.next();
  if (r < 0.2) {
    // Benign: renamed in another case, unrelated headers added, another container shape.
    for (const n of names) {
      if (g.bool(0.5)) {
        const renamed = [...n].map((c) => (g.bool() ? c.toUpperCase() : c)).join("");
        const v = h[n]!;
        delete h[n];
        h[renamed] = v;
        ops.push(`case ${renamed}`);
      }
    }
    for (let i = g.int(4); i > 0; i--) {
      h[`x-fuzz-${g.int(1000)}`] = g.soup(6);
      ops.push("extra");
    }
    if (g.bool(0.3)) {
      const picked = names[g.int(names.length)]!;
      const key = Object.keys(h).find((k) => k.toLowerCase() === picked)!;
      h[key] = [h[key] as string];
      ops.push(`single-element array ${key}`);
    }
    if (g.bool(0.3)) {
      try {
        const web = new Headers();
        for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) web.append(k, one);
        ops.push("Headers");
        return { headers: web, kind: "benign", ops };
      } catch {
        // A value the Headers class refuses: keep the record.
      }
    }
    return { headers: h, kind: "benign", ops };
  }
  if (r < 0.35) {
    for (const n of names) {
      const flipped = flipDigest(g, h[n] as string);
      if (flipped !== undefined) {
        h[n] = flipped;
        ops.push(`digest ${n}`);
        return { headers: h, kind: "digest", ops };
      }
    }
  }
  for (let i = g.range(1, 3); i > 0; i--) {
    const n = g.pick(names);
    const v = typeof h[n] === "string" ? (h[n] as string) : String(h[n] ?? "");
    const op = g.int(12);
    ops.push(`${op} ${n}`);
    switch (op) {
      case 0:
        delete h[n];
        break;
      case 1:
        h[n] = g.soup(20);
        break;
      case 2:
        h[n] = v.slice(0, g.int(v.length + 1));
        break;
      case 3:
        h[n] = v + g.soup(6);
        break;
      case 4:
        h[n] = g.soup(6) + v;
        break;
      case 5: {
        const p = g.int(v.length + 1);
        h[n] = v.slice(0, p) + String.fromCharCode(g.int(0x800)) + v.slice(p + 1);
        break;
      }
      case 6:
        h[n] = [v, g.bool() ? v : g.soup(8)];
        break;
      case 7:
        h[n] = (v.slice(0, 100) + g.soup(3)).repeat(g.range(100, 2000)).slice(0, g.range(8_000, 120_000));
        break;
      case 8:
        h[n] = "";
        break;
      case 9:
        h[n] = ` ${v}\t `;
        break;
      case 10:
        h[n] = v.split("").reverse().join("");
        break;
      default:
        h[g.pick(["stripe-signature", "x-hub-signature-256", "webhook-signature", "webhook-timestamp", "x-slack-signature", "x-slack-request-timestamp", n])] = g.soup(30);
    }
  }
  return { headers: h, kind: "hostile", ops };
}

async function verifyThrowingAgrees(scheme: WebhookScheme<unknown>, req: RequestShape, now: number, expected: Outcome): Promise<string | undefined> {
  try {
    const w = await verifyWebhook(req as Parameters<typeof verifyWebhook>[0], scheme, { now });
    return expected.ok ? undefined : `verifyWebhook resolved (${w.id}) where verifyRequest failed with ${expected.code}`;
  } catch (e) {
    if (!isWebhookVerificationError(e)) return `verifyWebhook rejected with something else: ${String(e)}`;
    if (e.status !== verificationErrorStatus[e.code]) return `code ${e.code} came with status ${e.status}`;
    if (expected.ok || expected.code !== e.code) return `verifyWebhook rejected with ${e.code}, verifyRequest said ${JSON.stringify(expected)}`;
    return undefined;
  }
}

async function headersCase(fixtures: readonly Fixture[], index: number): Promise<void> {
  const g = caseGen(seed, "headers", index);
  const fx = g.pick(fixtures);
  const { headers, kind, ops } = mutateHeaders(g, fx);
  const req: RequestShape = { body: fx.body, headers, url: fx.url, method: "POST" };
  const node = await outcome(fx.schemes.node, req, fx.now);
  const web = await outcome(fx.schemes.web, req, fx.now);
  const detail = { scheme: fx.name, kind, ops, headers, node, web };
  if (verbose) console.log(JSON.stringify(detail, null, 2));
  if ("threw" in node || "threw" in web) return fail("headers", index, "verifyRequest threw instead of returning a failure", detail);
  if (!same(node, web)) return fail("headers", index, "node:crypto and Web Crypto disagree", detail);
  if (kind === "benign" && !same(node, fx.baseline)) return fail("headers", index, "a benign change (header-name case, extra headers, container shape) changed the outcome", detail);
  if (kind === "digest" && node.ok) return fail("headers", index, "a changed signature digest still verified", detail);
  if (node.ok && (node.ts !== (fx.baseline as { ts?: number }).ts || node.payload !== (fx.baseline as { payload?: string }).payload)) {
    return fail("headers", index, "verified with a different timestamp or payload than was signed", detail);
  }
  if (index % 8 === 0) {
    const problem = await verifyThrowingAgrees(fx.schemes.node, req, fx.now, node);
    if (problem) fail("headers", index, problem, detail);
  }
}

// ---------------------------------------------------------------------------------------
// Target: body. Valid headers, the body's bytes or its container changed.

function asShape(g: Gen, bytes: Buffer): { body: unknown; shape: string } {
  switch (g.int(5)) {
    case 0:
      return { body: bytes.toString("utf8"), shape: "string" };
    case 1:
      return { body: bytes, shape: "Buffer" };
    case 2:
      return { body: new Uint8Array(bytes), shape: "Uint8Array" };
    case 3: {
      const pad = g.range(1, 16);
      const big = new Uint8Array(bytes.length + pad * 2);
      big.set(bytes, pad);
      return { body: new Uint8Array(big.buffer, pad, bytes.length), shape: "offset view" };
    }
    default:
      return { body: new Uint8Array(bytes).buffer, shape: "ArrayBuffer" };
  }
}

function mutateBody(g: Gen, original: Buffer): { bytes: Buffer; op: string } {
  const b = Buffer.from(original);
  switch (g.int(9)) {
    case 0:
      return { bytes: b, op: "none (container only)" };
    case 1: {
      const p = g.int(b.length);
      b[p] = b[p]! ^ (1 << g.int(8));
      return { bytes: b, op: `flip bit at ${p}` };
    }
    case 2: {
      const p = g.int(b.length + 1);
      return { bytes: Buffer.concat([b.subarray(0, p), g.bytes(g.range(1, 4)), b.subarray(p)]), op: `insert at ${p}` };
    }
    case 3: {
      const p = g.int(b.length);
      return { bytes: Buffer.concat([b.subarray(0, p), b.subarray(p + g.range(1, 4))]), op: `delete at ${p}` };
    }
    case 4:
      return { bytes: b.subarray(0, g.int(b.length)), op: "truncate" };
    case 5:
      return { bytes: Buffer.concat([b, Buffer.from(g.pick([" ", "\n", "\r\n", "\u0000", "}"]))]), op: "append" };
    case 6:
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]), op: "BOM" };
    case 7:
      return { bytes: g.bytes(g.int(2 * b.length + 1)), op: "random bytes" };
    default: {
      // Same text, different bytes: a character re-encoded (overlong / Latin-1).
      const text = b.toString("utf8");
      return { bytes: Buffer.from(text, "latin1"), op: "latin1" };
    }
  }
}

async function bodyCase(fixtures: readonly Fixture[], index: number): Promise<void> {
  const g = caseGen(seed, "body", index);
  const fx = g.pick(fixtures);
  const original = Buffer.from(fx.body);
  const { bytes, op } = mutateBody(g, original);
  const { body, shape } = asShape(g, bytes);
  const req: RequestShape = { body, headers: { ...fx.headers }, url: fx.url, method: "POST" };
  const node = await outcome(fx.schemes.node, req, fx.now);
  const web = await outcome(fx.schemes.web, req, fx.now);
  const detail = { scheme: fx.name, op, shape, body: bytes.toString("latin1"), node, web };
  if (verbose) console.log(JSON.stringify(detail, null, 2));
  if ("threw" in node || "threw" in web) return fail("body", index, "verifyRequest threw instead of returning a failure", detail);
  if (!same(node, web)) return fail("body", index, "node:crypto and Web Crypto disagree", detail);
  const unchanged = bytes.equals(original);
  if (unchanged && !same(node, fx.baseline)) return fail("body", index, "the same bytes in another container verified differently", detail);
  if (unchanged || !node.ok) return;
  if (fx.name === "twilio") {
    // Twilio signs the URL then each form parameter as name + value, sorted, with nothing
    // in between: "id=evt_1" and "idevt_1=" sign alike, in Twilio's own SDK too. What it
    // does fix is that concatenation.
    if (twilioSigned(bytes.toString("utf8")) !== twilioSigned(fx.body)) fail("body", index, "a form body with other signed content still verified", detail);
    return;
  }
  if (fx.signsBody) fail("body", index, "a changed body still verified", detail);
}

function twilioSigned(form: string): string {
  return [...new URLSearchParams(form)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => k + v)
    .join("");
}

// ---------------------------------------------------------------------------------------
// Target: node-body. The Node adapters' body reader over streams of any chunking, declared
// length, size limit and abort point, against its documented behaviour.

class ChunkStream extends Readable {
  private i = 0;
  constructor(
    private readonly chunks: readonly Buffer[],
    private readonly errorAfter: number | undefined,
  ) {
    super();
  }
  override _read(): void {
    if (this.errorAfter !== undefined && this.i === this.errorAfter) {
      this.destroy(new Error("client went away"));
      return;
    }
    if (this.i < this.chunks.length) this.push(this.chunks[this.i++]);
    else this.push(null);
  }
}

function chunk(g: Gen, bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < bytes.length) {
    const n = g.bool(0.2) ? 1 : g.range(1, Math.max(1, Math.min(bytes.length - p, g.pick([3, 64, 1024, 16_384]))));
    out.push(bytes.subarray(p, p + n));
    p += n;
  }
  return out;
}

const DECLARED = ["0", "", "abc", "1e3", " 12", "-1", "99999999999999999999", "0x10", "12.5"];

function declaredLength(g: Gen, size: number): string | undefined {
  switch (g.int(5)) {
    case 0:
      return undefined;
    case 1:
      return String(size);
    case 2:
      return String(Math.max(0, size + g.range(-50, 50)));
    case 3:
      return g.pick(DECLARED);
    default:
      return String(size);
  }
}

type BodyResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * What the docs promise: a declared length (ASCII digits only, as HTTP writes it; anything
 * else declares nothing) over the limit refused unread, a streamed body counted as it flows.
 */
function expectedNodeBody(chunks: readonly Buffer[], declared: string | undefined, te: string | undefined, max: number, errorAfter: number | undefined): BodyResult {
  if (declared !== undefined && /^\d+$/.test(declared)) {
    const n = Number(declared);
    if (n > max) return { ok: false, reason: "too_large" };
    if (n === 0 && te === undefined) return { ok: true, bytes: Buffer.alloc(0) };
  }
  let size = 0;
  for (let i = 0; i < chunks.length; i++) {
    if (errorAfter !== undefined && i === errorAfter) return { ok: false, reason: "aborted" };
    size += chunks[i]!.length;
    if (size > max) return { ok: false, reason: "too_large" };
  }
  if (errorAfter !== undefined && errorAfter >= chunks.length) return { ok: false, reason: "aborted" };
  return { ok: true, bytes: Buffer.concat(chunks) };
}

function normalise(r: { ok: boolean; body?: unknown; reason?: string }): BodyResult {
  if (!r.ok) return { ok: false, reason: r.reason ?? "?" };
  const b = r.body;
  return { ok: true, bytes: typeof b === "string" ? Buffer.from(b) : Buffer.from(b as Uint8Array) };
}

function withTimeout<T>(p: Promise<T> | T, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([Promise.resolve(p), new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)))]).finally(() => clearTimeout(timer));
}

async function nodeBodyCase(index: number): Promise<void> {
  const g = caseGen(seed, "node-body", index);
  const size = g.pick([0, 1, g.int(100), g.int(5000), g.int(70_000)]);
  const bytes = g.bytes(size);
  const chunks = chunk(g, bytes);
  const max = g.pick([1, 16, 1024, 4096, 65_536, Math.max(1, size), Math.max(1, size - 1), size + 1]);
  const declared = declaredLength(g, size);
  const te = g.bool(0.2) ? "chunked" : undefined;
  const errorAfter = g.bool(0.15) ? g.int(chunks.length + 1) : undefined;
  const stream = new ChunkStream(chunks, errorAfter);
  const headers: Record<string, string> = {};
  if (declared !== undefined) headers["content-length"] = declared;
  if (te !== undefined) headers["transfer-encoding"] = te;
  const req = Object.assign(stream, { headers });
  const detail = { size, chunks: chunks.length, max, declared, te, errorAfter };
  let got: BodyResult | "timeout";
  try {
    const r = await withTimeout(readNodeBody(req as unknown as Parameters<typeof readNodeBody>[0], headers, max), 2000);
    got = r === "timeout" ? r : normalise(r as { ok: boolean; body?: unknown; reason?: string });
  } catch (e) {
    return fail("node-body", index, `readNodeBody threw: ${String(e)}`, detail);
  } finally {
    stream.destroy();
  }
  const want = expectedNodeBody(chunks, declared, te, max, errorAfter);
  if (verbose) console.log(JSON.stringify({ ...detail, got, want }, null, 2));
  if (got === "timeout") return fail("node-body", index, "the body reader never settled", detail);
  if (got.ok && got.bytes.length > max) return fail("node-body", index, `accepted ${got.bytes.length} bytes over maxBodyBytes ${max}`, detail);
  if (!same(got, want)) return fail("node-body", index, `read ${JSON.stringify(got.ok ? `${got.bytes.length} bytes` : got.reason)}, documented ${JSON.stringify(want.ok ? `${want.bytes.length} bytes` : want.reason)}`, detail);
}

// ---------------------------------------------------------------------------------------
// Target: web-body. The fetch adapter's reader over `Request` streams.

async function webBodyCase(index: number): Promise<void> {
  const g = caseGen(seed, "web-body", index);
  const size = g.pick([0, 1, g.int(100), g.int(5000), g.int(70_000)]);
  const bytes = g.bytes(size);
  const chunks = chunk(g, bytes);
  const max = g.pick([1, 16, 1024, 4096, 65_536, Math.max(1, size), Math.max(1, size - 1), size + 1]);
  const declared = g.bool(0.5) ? declaredLength(g, size) : undefined;
  const errorAfter = g.bool(0.1) ? g.int(chunks.length + 1) : undefined;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (errorAfter !== undefined && i === errorAfter) controller.error(new Error("client went away"));
      else if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]!));
      else controller.close();
    },
  });
  const headers = new Headers();
  if (declared !== undefined) headers.set("content-length", declared);
  const request = new Request("http://127.0.0.1/webhooks", { method: "POST", body: size === 0 && g.bool() ? null : stream, headers, duplex: "half" } as RequestInit);
  const detail = { size, chunks: chunks.length, max, declared, errorAfter };
  let got: BodyResult | "timeout" | "rejected";
  try {
    const r = await withTimeout(Promise.resolve(readWebBody(request, max, (body) => body)), 2000);
    got = r === "timeout" ? r : normalise(r as { ok: boolean; body?: unknown; reason?: string });
  } catch {
    got = "rejected";
  }
  // Documented: a declared length (digits only, as HTTP writes it; Headers trim the value)
  // over the limit is refused unread; one within it is read whole by the runtime and then
  // checked; an undeclared body is counted as it flows; a stream that fails rejects.
  const valid = declared !== undefined && /^\d+$/.test(declared.trim()) ? Number(declared.trim()) : undefined;
  let want: BodyResult | "rejected";
  if (valid !== undefined && valid > max) want = { ok: false, reason: "too_large" };
  else if (request.body === null) want = { ok: true, bytes: Buffer.alloc(0) };
  else if (valid !== undefined) want = errorAfter !== undefined ? "rejected" : size > max ? { ok: false, reason: "too_large" } : { ok: true, bytes: Buffer.concat(chunks) };
  else {
    want = { ok: true, bytes: Buffer.concat(chunks) };
    let seen = 0;
    for (let k = 0; k <= chunks.length; k++) {
      if (errorAfter !== undefined && k === errorAfter) {
        want = "rejected";
        break;
      }
      if (k === chunks.length) break;
      seen += chunks[k]!.length;
      if (seen > max) {
        want = { ok: false, reason: "too_large" };
        break;
      }
    }
  }
  if (verbose) console.log(JSON.stringify({ ...detail, got, want }, null, 2));
  if (got === "timeout") return fail("web-body", index, "the body reader never settled", detail);
  if (typeof got === "object" && got.ok && got.bytes.length > max) return fail("web-body", index, `accepted ${got.bytes.length} bytes over maxBodyBytes ${max}`, detail);
  if (!same(got, want)) return fail("web-body", index, `read ${typeof got === "string" ? got : got.ok ? `${got.bytes.length} bytes` : got.reason}, documented ${typeof want === "string" ? want : want.ok ? `${want.bytes.length} bytes` : want.reason}`, detail);
}

// ---------------------------------------------------------------------------------------
// Target: parse. The verified body parsed by its content type: never throws, JSON exactly
// as JSON.parse reads it, forms as URLSearchParams does.

const CONTENT_TYPES = [undefined, "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", " Application/X-WWW-Form-Urlencoded ; charset=utf-8", "text/plain", "application/x-www-form-urlencodedX", "", "multipart/form-data"];

function parseCase(index: number): void {
  const g = caseGen(seed, "parse", index);
  const r = g.int(4);
  const text =
    r === 0
      ? JSON.stringify({ a: g.soup(5), n: g.int(1e6), nested: { list: [g.soup(3), null, true, 1.5e300] } })
      : r === 1
        ? new URLSearchParams([[g.soup(2), g.soup(3)], [g.soup(2), g.soup(3)], ["a", g.soup(2)], ["a", g.soup(2)]]).toString()
        : r === 2
          ? g.soup(30)
          : g.bytes(g.int(200)).toString("latin1");
  const asBytes = g.bool();
  const body = asBytes ? Buffer.from(text, "utf8") : text;
  const contentType = g.pick(CONTENT_TYPES);
  let got: { value: unknown } | undefined;
  try {
    got = parsePayload(body, contentType);
  } catch (e) {
    return fail("parse", index, `parsePayload threw: ${String(e)}`, { text, contentType });
  }
  const decoded = Buffer.from(body).toString("utf8");
  const isForm = contentType !== undefined && /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i.test(contentType);
  let want: { value: unknown } | undefined;
  if (isForm) {
    const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of new URLSearchParams(decoded)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    want = { value: out };
  } else {
    try {
      want = { value: JSON.parse(decoded) as unknown };
    } catch {
      want = undefined;
    }
  }
  if (verbose) console.log(JSON.stringify({ text, contentType, got, want }, null, 2));
  if (!same(got, want)) fail("parse", index, "parsed differently from JSON.parse / URLSearchParams", { text, contentType, got, want });
}

// ---------------------------------------------------------------------------------------
// Target: http. Real requests over loopback to `handleWebhooks`, framed every way.

const HTTP_SECRET = "whsec_fuzz_http";
const HTTP_MAX = 4096;

interface HttpServer {
  port: number;
  runs: () => number;
  close: () => Promise<void>;
}

async function startHttpServer(): Promise<HttpServer> {
  let runs = 0;
  const receiver = createWebhookReceiver({ scheme: stripe({ secret: HTTP_SECRET }), store: memoryStore({ maxEntries: 1_000_000 }), logger: { error() {} } });
  receiver.on("fuzz.event", () => {
    runs++;
  });
  const server = createServer(handleWebhooks(receiver, { maxBodyBytes: HTTP_MAX, logger: { warn() {}, error() {} } }));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    runs: () => runs,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function exchange(port: number, pieces: readonly Buffer[], endEarly: boolean): Promise<number | "closed" | "timeout"> {
  return new Promise((resolve) => {
    let head = "";
    let done = false;
    const socket = connect({ host: "127.0.0.1", port });
    const finish = (a: number | "closed" | "timeout"): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish("timeout"), 3000);
    socket.on("connect", () => {
      for (const p of pieces) socket.write(p);
      if (endEarly) socket.end();
    });
    socket.on("data", (c: Buffer) => {
      head += c.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) finish(Number(m[1]));
      else if (head.length > 32) finish("closed");
    });
    socket.on("error", () => {});
    socket.on("close", () => finish("closed"));
  });
}

async function httpCase(server: HttpServer, index: number): Promise<void> {
  const g = caseGen(seed, "http", index);
  const scheme = stripe({ secret: HTTP_SECRET });
  const id = `evt_http_${seed}_${index}`;
  const pad = g.pick([0, g.int(200), g.int(6000)]);
  const body = Buffer.from(JSON.stringify({ id, type: "fuzz.event", pad: "p".repeat(pad) }));
  const headers = await signWebhook(body, scheme);
  const tamper = g.int(4); // 0: intact; 1: body byte; 2: signature header; 3: header dropped
  let sent = body;
  if (tamper === 1) {
    sent = Buffer.from(body);
    const at = g.int(sent.length);
    sent[at] = sent[at]! ^ (1 << g.int(7));
  }
  if (tamper === 2) headers["stripe-signature"] = g.soup(10);
  if (tamper === 3) delete headers["stripe-signature"];
  const framing = g.int(6); // 0/1: content-length; 2: chunked; 3: length too small; 4: length too large; 5: not HTTP
  let head = "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v.replace(/[\r\n]/g, "")}\r\n`;
  let payload: Buffer[];
  if (framing === 2) {
    const parts = chunk(g, sent);
    payload = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`)];
    for (const p of parts) payload.push(Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from("\r\n"));
    payload.push(Buffer.from("0\r\n\r\n"));
  } else if (framing === 5) {
    payload = [g.bytes(g.int(300)), Buffer.from("\r\n\r\n")];
  } else {
    const length = framing === 3 ? Math.max(0, sent.length - g.range(1, 20)) : framing === 4 ? sent.length + g.range(1, 20) : sent.length;
    payload = [Buffer.from(`${head}Content-Length: ${length}\r\n\r\n`), sent];
  }
  // Split the bytes anywhere, as TCP may.
  const wire = Buffer.concat(payload);
  const pieces = g.bool(0.5) ? chunk(g, wire) : [wire];
  const before = server.runs();
  // Bytes that are not a whole request: the client then closes its side, as a real one would.
  const answer = await exchange(server.port, pieces, framing >= 4);
  const ran = server.runs() - before;
  const valid = tamper === 0 && (framing <= 2) && sent.length <= HTTP_MAX;
  const detail = { tamper, framing, size: sent.length, answer, ran };
  if (verbose) console.log(JSON.stringify(detail, null, 2));
  if (answer === "timeout") return fail("http", index, "no answer and no close within 3 s", detail);
  if (typeof answer === "number" && answer >= 500) return fail("http", index, `answered ${answer}`, detail);
  if (valid && answer !== 200) return fail("http", index, `a valid request was answered ${answer}`, detail);
  if (!valid && typeof answer === "number" && answer < 300) return fail("http", index, `an invalid request was answered ${answer}`, detail);
  if (ran !== (valid ? 1 : 0)) return fail("http", index, `the handler ran ${ran} times`, detail);
  // (A rubbish signature header may hold bytes Node's HTTP parser refuses first, with a 400.)
  if (sent.length > HTTP_MAX && framing <= 2 && tamper !== 2 && answer !== 413 && answer !== "closed") return fail("http", index, `an oversized body was answered ${answer}`, detail);
}

// ---------------------------------------------------------------------------------------
// The campaign

const SHARES = { headers: 0.42, body: 0.2, "node-body": 0.15, "web-body": 0.05, parse: 0.16, http: 0.02 } as const;
type Target = keyof typeof SHARES;

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "1000000" },
    seed: { type: "string" },
    target: { type: "string" },
    case: { type: "string" },
    "max-minutes": { type: "string", default: "60" },
  },
});

const total = Number(values.cases);
seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const maxMs = Number(values["max-minutes"]) * 60_000;
if (!Number.isSafeInteger(total) || total < 1 || !Number.isSafeInteger(seed) || !(maxMs > 0)) {
  console.error("usage: npm run fuzz -- [--cases N] [--seed S] [--target headers|body|node-body|web-body|parse|http] [--case I] [--max-minutes M]");
  process.exit(2);
}
const targets = (values.target === undefined ? Object.keys(SHARES) : values.target.split(",")) as Target[];
for (const t of targets) {
  if (!(t in SHARES)) {
    console.error(`unknown target ${t}; targets: ${Object.keys(SHARES).join(", ")}`);
    process.exit(2);
  }
}

const { fixtures, skipped } = await buildFixtures(6);
const schemeNames = [...new Set(fixtures.map((f) => f.name))];
console.log(`fuzz: seed ${seed}; ${schemeNames.length} schemes (${schemeNames.join(", ")})${skipped.length ? `; not fuzzed here: ${skipped.join(", ")}` : ""}`);

const server = targets.includes("http") ? await startHttpServer() : undefined;
const started = Date.now();
let interrupted = false;

async function runCase(target: Target, i: number): Promise<void> {
  switch (target) {
    case "headers":
      return headersCase(fixtures, i);
    case "body":
      return bodyCase(fixtures, i);
    case "node-body":
      return nodeBodyCase(i);
    case "web-body":
      return webBodyCase(i);
    case "parse":
      return parseCase(i);
    case "http":
      return httpCase(server!, i);
  }
}

const SLOW_MS = 250;
const ran: Record<string, { cases: number; ms: number; slowest: number }> = {};
try {
  if (values.case !== undefined) {
    verbose = true;
    for (const t of targets) await runCase(t, Number(values.case));
  } else {
    const share = targets.length === 1 ? { [targets[0]!]: 1 } : SHARES;
    for (const t of targets) {
      const n = Math.max(1, Math.round(total * share[t]!));
      const t0 = Date.now();
      let slowest = 0;
      let i = 0;
      for (; i < n; i++) {
        if (Date.now() - started > maxMs) {
          interrupted = true;
          break;
        }
        const c0 = performance.now();
        await runCase(t, i);
        const took = performance.now() - c0;
        if (took > slowest) slowest = took;
        // A slow case may be a pathological input (super-linear parsing); a pause of the
        // collector is not. Re-run it: slow twice is a finding.
        if (took > SLOW_MS) {
          const r0 = performance.now();
          await runCase(t, i);
          if (performance.now() - r0 > SLOW_MS) fail(t, i, `took ${took.toFixed(0)} ms (and again on a re-run)`, {});
        }
        if (failures.length >= 50) break;
      }
      ran[t] = { cases: i, ms: Date.now() - t0, slowest };
      console.log(`  ${t.padEnd(10)} ${String(i).padStart(8)} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s (slowest ${slowest.toFixed(1)} ms), ${failures.filter((f) => f.target === t).length} failures`);
      if (interrupted || failures.length >= 50) break;
    }
  }
} finally {
  await server?.close();
}

const casesRun = Object.values(ran).reduce((n, r) => n + r.cases, 0);
for (const f of failures.slice(0, 20)) {
  console.log(`FAIL [${f.target} #${f.index}] ${f.message}\n  ${f.detail}\n  replay: npm run fuzz -- --seed ${seed} --target ${f.target} --case ${f.index}`);
}
if (values.case === undefined) {
  console.log(
    `fuzz: ${casesRun.toLocaleString("en-US")} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${seed}: ${failures.length === 0 ? "no failures" : `${failures.length} failures`}${interrupted ? ` (stopped at the ${values["max-minutes"]}-minute limit before ${total.toLocaleString("en-US")} cases)` : ""}`,
  );
}
process.exit(failures.length === 0 && !interrupted ? 0 : 1);
