// `handleWebhooks` over a Node request stream (node:http, Express): the raw body read from
// the request's own events, the receiver asked, its answer written, each step continuing
// the last directly. (Reading into a promise, then asking the receiver in its `then` and
// writing in another cost three promises and two microtask turns per request.)
//
// A continuation from a stream event runs in the stream's async context, not the caller's:
// the caller's (its AsyncLocalStorage stores: request-scoped loggers, tracing spans) is
// carried across by an AsyncResource made when the listener is called, as Fastify's
// content-type parsers and raw-body do.
import { AsyncResource } from "node:async_hooks";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { isThenable } from "../../internal/thenable";
import { collectBody, readNodeBodyNow, type NodeRequestLike } from "./node-body";
import { writeNodeResponse } from "./node-response";
import type { ReceiverLike, Settings } from "./options";
import { receiveRequest, type Answer, type RawBody } from "./pipeline";

const SETTLED: Promise<void> = Promise.resolve();

/**
 * The listener: `(req, res, next)` answers the request and returns a promise that resolves
 * once the answer is written, or the failure handed to `failed` (with `next`, which the
 * listener passes through untouched). Nothing it runs throws past it.
 */
export function receiveNodeRequests<TRequest extends NodeRequestLike & { readonly method?: string }, TResponse extends ServerResponse, TNext>(
  receiver: ReceiverLike,
  settings: Settings<TRequest>,
  failed: (res: TResponse, error: unknown, next: TNext) => void,
): (req: TRequest, res: TResponse, next: TNext) => Promise<void> {
  const receive = receiveRequest(receiver, settings);
  const { maxBodyBytes } = settings;

  /** Answers a request whose body is read: `undefined` once written at once, else a promise. */
  function respond(req: TRequest, res: TResponse, next: TNext, headers: IncomingHttpHeaders, body: RawBody): Promise<void> | undefined {
    let answer: Answer;
    try {
      answer = receive(body, headers, req.method, settings.url(req));
      if (!isThenable(answer)) {
        writeNodeResponse(res, answer);
        return undefined;
      }
    } catch (error) {
      failed(res, error, next);
      return undefined;
    }
    return answer.then(
      (response) => {
        try {
          writeNodeResponse(res, response);
        } catch (error) {
          failed(res, error, next);
        }
      },
      (error: unknown) => failed(res, error, next),
    );
  }

  return (req, res, next) => {
    // Read once and passed along: on Express every read of `req` misses V8's caches (see
    // bodyAtOnce), and `headers` is a getter.
    let headers: IncomingHttpHeaders;
    let known: RawBody | undefined;
    try {
      headers = req.headers;
      known = readNodeBodyNow(req, headers, maxBodyBytes);
    } catch (error) {
      failed(res, error, next);
      return SETTLED;
    }
    if (known !== undefined) return respond(req, res, next, headers, known) ?? SETTLED;
    const caller = new AsyncResource("hookguard.body");
    return new Promise((resolve, reject) => {
      // Called from a stream event, in the caller's context: what `failed` itself throws
      // becomes this promise's rejection, as it would from a `then`, never an uncaught exception.
      const onBody = (body: RawBody): void => {
        try {
          resolve(respond(req, res, next, headers, body));
        } catch (error) {
          reject(error);
        }
      };
      collectBody(req, maxBodyBytes, (body) => caller.runInAsyncScope(onBody, undefined, body));
    });
  };
}
