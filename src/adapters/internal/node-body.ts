// Reads the raw body of a Node request (Express, Fastify, node:http) with a size limit, or
// takes the bytes a middleware already read.
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Settings } from "./options";
import type { Exchange, RawBody } from "./pipeline";
import { declaredLength } from "./declared-length";

export const EMPTY: RawBody = Object.freeze({ ok: true, body: new Uint8Array(0) });
const TOO_LARGE: RawBody = Object.freeze({ ok: false, reason: "too_large" });
const ABORTED: RawBody = Object.freeze({ ok: false, reason: "aborted" });

/** Where middleware leaves a body it read: `rawBody` by convention, `body` from express.raw() / express.text(). */
export interface BodyHolder {
  readonly rawBody?: unknown;
  readonly body?: unknown;
}

function noop(): void {}

function byteLength(body: string | Uint8Array): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

/** Raw bytes someone already read, as a body: refused if over the limit. */
export function withinLimit(body: string | Uint8Array, maxBodyBytes: number): RawBody {
  return byteLength(body) > maxBodyBytes ? TOO_LARGE : { ok: true, body };
}

function bytes(value: unknown, maxBodyBytes: number): RawBody | undefined {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) return undefined;
  return withinLimit(value, maxBodyBytes);
}

/**
 * The raw bytes a middleware already produced: `rawBody` (a Buffer or string, as saved by an
 * `express.json({ verify })` callback or fastify-raw-body) first, then a Buffer or string
 * `body` (express.raw(), express.text()). `undefined` when there are none.
 */
export function bytesAlreadyRead(holder: BodyHolder, maxBodyBytes: number): RawBody | undefined {
  return bytes(holder.rawBody, maxBodyBytes) ?? bytes(holder.body, maxBodyBytes);
}

/** Says what a parser left behind, for the `body_not_raw` message (a kind, never the content). */
export function describeBody(name: string, body: unknown): string {
  if (body === undefined || body === null) return `the stream was already read and ${name} is ${String(body)}`;
  if (Array.isArray(body)) return `${name} is an already-parsed array`;
  return typeof body === "object" ? `${name} is an already-parsed object` : `${name} is a ${typeof body}`;
}

/**
 * The chunks as one Buffer. A lone chunk is used as it is when it owns its memory (Node's
 * HTTP parser hands each body chunk its own exact-size buffer); a view over a larger
 * buffer, or several chunks, are copied once, so the body never pins more than itself.
 */
function whole(chunks: readonly Buffer[], size: number): Buffer {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    if (only.buffer.byteLength <= 2 * only.byteLength) return only;
  }
  return Buffer.concat(chunks, size);
}

/** The part of a Node stream's `_readableState` its public getters read. */
interface StreamFlags {
  /** `readableDidRead`: a "data" event was emitted. */
  readonly dataEmitted: boolean;
  /** `readableEnded`: "end" was emitted. */
  readonly endEmitted: boolean;
  readonly destroyed: boolean;
}

/**
 * What can be said of a body stream before reading it: consumed already, empty, gone, or
 * declared over the limit. `undefined` when it must be read.
 */
function bodyAtOnce(stream: Readable, headers: IncomingHttpHeaders, maxBodyBytes: number, parsed: () => string): RawBody | undefined {
  // What `readableDidRead`, `readableEnded` and `destroyed` return, read from the state they
  // read it from, once: Express gives each request its own hidden class (Object.setPrototypeOf
  // per request), so every property read on `req` misses V8's caches and each getter paid
  // two such reads. A stream without that state is asked through the getters.
  const state = (stream as { readonly _readableState?: StreamFlags | null })._readableState;
  const flags: StreamFlags = typeof state === "object" && state !== null ? state : { dataEmitted: stream.readableDidRead, endEmitted: stream.readableEnded, destroyed: stream.destroyed };
  // A parser that ran before us drained the stream: waiting for "end" would hang forever.
  if (flags.dataEmitted) return { ok: false, reason: "not_raw", detail: parsed() };
  if (flags.endEmitted) return EMPTY;
  if (flags.destroyed) return ABORTED;
  const length = declaredLength(headers["content-length"]);
  if (length !== undefined) {
    if (length > maxBodyBytes) return TOO_LARGE;
    if (length === 0 && headers["transfer-encoding"] === undefined) return EMPTY;
  }
  return undefined;
}

/** Collects the stream's chunks and calls `done` once: with the body, TOO_LARGE or ABORTED. */
export function collectBody(stream: Readable, maxBodyBytes: number, done: (body: RawBody) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  function onData(chunk: Buffer | string): void {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBodyBytes) {
      chunks.length = 0;
      // Nothing more is read: the paused socket pushes back on the sender, and the 413's
      // `connection: close` ends it. An error on the abandoned stream must not crash us.
      stream.removeListener("data", onData);
      stream.pause();
      stream.on("error", noop);
      settled = true;
      done(TOO_LARGE);
      return;
    }
    chunks.push(buffer);
  }
  function onEnd(): void {
    if (settled) return;
    settled = true;
    done({ ok: true, body: whole(chunks, size) });
  }
  // "error" or "close" before "end": the client went away mid-body. (After "end" they
  // change nothing: the listeners stay, as removing them costs more than they do.)
  function onAbort(): void {
    if (settled) return;
    settled = true;
    chunks.length = 0;
    done(ABORTED);
  }
  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onAbort);
  stream.on("close", onAbort);
}

/**
 * Reads a body stream whole, refusing more than `maxBodyBytes`, for a framework that takes a
 * callback (Fastify's content-type parsers): a declared `Content-Length` over the limit is
 * refused before a byte is read, and a streamed body is counted as it flows and dropped
 * (listeners removed, stream paused) the moment it passes the limit. `done` is called once,
 * with no promise in between: at once when the body is known before reading, else from the
 * stream's own events.
 *
 * @param parsed - what sits where a parser would have put the body, to describe a stream
 *   that was already consumed.
 */
export function readStreamTo(stream: Readable, headers: IncomingHttpHeaders, maxBodyBytes: number, parsed: () => string, done: (body: RawBody) => void): void {
  const known = bodyAtOnce(stream, headers, maxBodyBytes, parsed);
  if (known !== undefined) done(known);
  else collectBody(stream, maxBodyBytes, done);
}

/** A Node request whose body is read by {@link readNodeBody}. */
export interface NodeRequestLike extends Readable, BodyHolder {
  readonly headers: IncomingHttpHeaders;
}

/**
 * The raw body of an Express or node:http request: the bytes a middleware already kept,
 * else the stream, else `body_not_raw` when a parser consumed it.
 */
export function readNodeBody(req: NodeRequestLike, headers: IncomingHttpHeaders, maxBodyBytes: number): RawBody | Promise<RawBody> {
  return readNodeBodyNow(req, headers, maxBodyBytes) ?? new Promise((resolve) => collectBody(req, maxBodyBytes, resolve));
}

/**
 * What {@link readNodeBody} can answer without reading the stream (bytes a middleware
 * kept, a consumed, empty, aborted or declared-too-large body); `undefined` when the
 * stream must be read, by {@link collectBody}.
 */
export function readNodeBodyNow(req: NodeRequestLike, headers: IncomingHttpHeaders, maxBodyBytes: number): RawBody | undefined {
  return bytesAlreadyRead(req, maxBodyBytes) ?? bodyAtOnce(req, headers, maxBodyBytes, () => describeBody("req.body", req.body));
}

/**
 * What `verifyWebhook` hands the pipeline for a node:http or Express request: its body (read
 * as {@link readNodeBody} does), headers, method and URL — the headers read once (a getter;
 * on Express every read of `req` misses V8's caches, see bodyAtOnce).
 */
export function nodeExchange<TRequest extends NodeRequestLike & { readonly method?: string }>(req: TRequest, settings: Settings<TRequest>): Exchange {
  const headers = req.headers;
  return { body: readNodeBody(req, headers, settings.maxBodyBytes), headers, method: req.method, url: settings.url(req) };
}
