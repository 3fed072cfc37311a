// Reads the raw body of a Web `Request` with a size limit. No Node APIs: this runs on
// Workers, Deno, Bun and in browsers' service workers.
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

/**
 * The raw body of a `Request`, at most `maxBodyBytes`: a declared `Content-Length` over the
 * limit is refused unread, and a streamed body is counted as it flows and cancelled the
 * moment it passes the limit. A body some code already read is `body_not_raw`. A stream
 * that fails (the client went away) rejects, as reading it would anywhere else.
 */
export function readWebBody(request: Request, maxBodyBytes: number): RawBody | Promise<RawBody> {
  if (request.bodyUsed) return { ok: false, reason: "not_raw", detail: "request.bodyUsed is true: something already read the body" };
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    const length = Number(declared);
    if (length > maxBodyBytes) {
      request.body?.cancel().catch(noop);
      return TOO_LARGE;
    }
    // A declared length within the limit cannot be exceeded (HTTP framing ends the body
    // there), so the runtime's own whole-body read is safe — and servers such as
    // @hono/node-server answer it straight from the socket, without building a stream
    // (measured: 3× the requests per second of reading request.body).
    if (Number.isSafeInteger(length) && length >= 0) {
      return request.arrayBuffer().then(
        (buffer): RawBody => (buffer.byteLength > maxBodyBytes ? TOO_LARGE : { ok: true, body: new Uint8Array(buffer) }),
        (error: unknown): RawBody => {
          if (request.body?.locked) return { ok: false, reason: "not_raw", detail: "request.body is locked: another reader is consuming it" };
          throw error;
        },
      );
    }
  }
  const stream = request.body;
  if (stream === null) return EMPTY;
  if (stream.locked) return { ok: false, reason: "not_raw", detail: "request.body is locked: another reader is consuming it" };
  return readWhole(stream, maxBodyBytes);
}
