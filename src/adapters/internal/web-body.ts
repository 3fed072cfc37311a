// Reads the raw body of a Web `Request` with a size limit. No Node APIs: this runs on
// Workers, Deno, Bun and in browsers' service workers.
import { declaredLength } from "./declared-length";
import type { RawBody } from "./pipeline";

const EMPTY: RawBody = Object.freeze({ ok: true, body: new Uint8Array(0) });
const TOO_LARGE: RawBody = Object.freeze({ ok: false, reason: "too_large" });

function noop(): void {}

async function readWhole(stream: ReadableStream<Uint8Array>, maxBodyBytes: number): Promise<RawBody> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      // Cancelling tells the runtime to stop receiving the rest of the body.
      reader.cancel().catch(noop);
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, body: chunks[0]! };
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, body };
}

const NOT_RAW_LOCKED: RawBody = Object.freeze({ ok: false, reason: "not_raw", detail: "request.body is locked: another reader is consuming it" });

/**
 * The raw body of a `Request`, at most `maxBodyBytes`, handed to `next`: a declared
 * `Content-Length` over the limit is refused unread, and a streamed body is counted as it
 * flows and cancelled the moment it passes the limit. A body some code already read is
 * `body_not_raw`. A stream that fails (the client went away) rejects, as reading it would
 * anywhere else. `next` runs at once when the answer is known without reading, else in the
 * one `then` that receives the bytes — no promise of the body in between.
 */
export function readWebBody<T>(request: Request, maxBodyBytes: number, next: (body: RawBody) => T): T | Promise<T> {
  if (request.bodyUsed) return next({ ok: false, reason: "not_raw", detail: "request.bodyUsed is true: something already read the body" });
  const length = declaredLength(request.headers.get("content-length"));
  if (length !== undefined) {
    if (length > maxBodyBytes) {
      request.body?.cancel().catch(noop);
      return next(TOO_LARGE);
    }
    // A declared length within the limit cannot be exceeded (HTTP framing ends the body
    // there), so the runtime's own whole-body read is safe — and servers such as
    // @hono/node-server answer it straight from the socket, without building a stream
    // (measured: 3× the requests per second of reading request.body).
    return request.arrayBuffer().then(
      (buffer) => next(buffer.byteLength > maxBodyBytes ? TOO_LARGE : { ok: true, body: new Uint8Array(buffer) }),
      (error: unknown) => {
        // Locked by another reader before ours: the read was refused, the stream is
        // untouched (not "used"). A stream that failed while we read it was used: that
        // is the client gone, and rejects like any other failing stream.
        if (!request.bodyUsed && request.body?.locked) return next(NOT_RAW_LOCKED);
        throw error;
      },
    );
  }
  const stream = request.body;
  if (stream === null) return next(EMPTY);
  if (stream.locked) return next(NOT_RAW_LOCKED);
  return readWhole(stream, maxBodyBytes).then(next);
}
