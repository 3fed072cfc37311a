/**
 * Web-standard adapter: `(request: Request) => Promise<Response>` handlers for Hono,
 * Next.js route handlers, Bun, Deno and Cloudflare Workers. Uses no Node API.
 *
 * ```ts
 * import { verifyWebhook, handleWebhooks } from "hookguard/fetch";
 * ```
 *
 * @module hookguard/fetch
 */
import type { WebhookResponse } from "../response";
import type { VerifiedWebhook, WebhookScheme } from "../types";
import {
  assertHandler,
  assertReceiver,
  assertScheme,
  resolveSettings,
  type HandleWebhooksOptions,
  type ReceiverLike,
  type UrlParts,
  type VerifyWebhookOptions,
} from "./internal/options";
import { isThenable } from "../internal/thenable";
import { receiveAnswer, verifyAnswer, type Answer, type RequestHead, type Verified } from "./internal/pipeline";
import { readWebBody } from "./internal/web-body";

export type { AdapterLogger, AdapterOptions, HandleWebhooksOptions, ReceiverLike, VerifyWebhookOptions } from "./internal/options";

/**
 * A handler that runs for verified webhooks only: the event, the `Request`, then whatever
 * else the runtime passes (a Worker's `env` and `ctx`, a Next.js route's `context`).
 */
export type FetchWebhookHandler<TPayload, TArgs extends unknown[] = []> = (
  event: VerifiedWebhook<TPayload>,
  request: Request,
  ...args: TArgs
) => Response | Promise<Response>;

/** The handler both functions return: a Web-standard `(request, ...args) => Promise<Response>`. */
export type FetchHandler<TArgs extends unknown[] = []> = (request: Request, ...args: TArgs) => Promise<Response>;

const ADAPTER = "hookguard/fetch";

const urlParts: UrlParts<Request> = {
  path: (request) => {
    const { url } = request;
    const slash = url.indexOf("/", url.indexOf("//") + 2);
    return slash === -1 ? "/" : url.slice(slash);
  },
  local: (request) => request.url,
};

// Statuses whose response must not carry a body; `new Response(body, …)` throws for them.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

// `response` is never `undefined` here: the Web body reader has no "aborted" outcome (a
// failing stream rejects instead), so every body failure comes with a response.
function toResponse(response: WebhookResponse | undefined): Response {
  if (response === undefined) throw new TypeError("hookguard/fetch: no response to write");
  return new Response(NULL_BODY.has(response.status) ? null : response.body, { status: response.status, headers: response.headers });
}

function respond(answer: Answer): Response | Promise<Response> {
  return isThenable(answer) ? answer.then(toResponse) : toResponse(answer);
}

/**
 * Wraps a Web-standard handler so it runs only for a verified webhook. The adapter reads
 * the raw body (at most `maxBodyBytes`), verifies it, and answers a bad request with the
 * failure `Response` (`{ error, message }` and the code's status) without calling the
 * handler. A body something already read (`request.bodyUsed`) is answered 500
 * `body_not_raw` with what to change. Errors the handler throws reject, for the framework
 * to handle.
 *
 * @param scheme - `stripe({ secret })`, `github({ secret })`, …; `crypto: "web"` is picked
 *   automatically where node:crypto is missing.
 * @param handler - `(event, request, ...args) => Response`.
 * @param options - `maxBodyBytes`, `now` / `toleranceSeconds`, `baseUrl` / `publicUrl`
 *   (URL-signed schemes; the default is `request.url`), `logger`.
 *
 * @example
 * ```ts
 * // app/api/webhooks/stripe/route.ts (Next.js)
 * import { stripe } from "hookguard";
 * import { verifyWebhook } from "hookguard/fetch";
 *
 * export const POST = verifyWebhook(stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }), async (event) => {
 *   console.log(event.type, event.id);
 *   return new Response(null, { status: 204 });
 * });
 * ```
 *
 * @example
 * ```ts
 * // Hono
 * const stripeWebhook = verifyWebhook(scheme, (event) => Response.json({ received: event.id }));
 * app.post("/webhooks/stripe", (c) => stripeWebhook(c.req.raw));
 * ```
 */
export function verifyWebhook<TPayload, TArgs extends unknown[] = []>(
  scheme: WebhookScheme<TPayload>,
  handler: FetchWebhookHandler<TPayload, TArgs>,
  options?: VerifyWebhookOptions<Request>,
): FetchHandler<TArgs> {
  assertScheme(scheme, `${ADAPTER}: verifyWebhook()`);
  assertHandler(handler, `${ADAPTER}: verifyWebhook()`);
  const settings = resolveSettings(ADAPTER, "verifyWebhook", options, urlParts, scheme);
  const verify = verifyAnswer(scheme, settings);
  const { maxBodyBytes, url } = settings;
  // As in handleWebhooks: the body's one `then` verifies and calls the handler.
  return (request, ...args) => {
    const handOver = ({ webhook, response }: Verified<TPayload>): Response | Promise<Response> =>
      webhook === undefined ? toResponse(response) : handler(webhook, request, ...args);
    try {
      const head: RequestHead = { headers: request.headers, method: request.method, url: url(request) };
      return Promise.resolve(
        readWebBody(request, maxBodyBytes, (body) => {
          const verified = verify(head, body);
          return isThenable(verified) ? verified.then(handOver) : handOver(verified);
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * A Web-standard handler for a whole receiver: reads the raw body, calls
 * `receiver.receive()`, and returns its response (status, headers, body) as a `Response`.
 *
 * @param receiver - from `createWebhookReceiver({ scheme })`, with its handlers registered.
 * @param options - `maxBodyBytes`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createWebhookReceiver, github } from "hookguard";
 * import { handleWebhooks } from "hookguard/fetch";
 *
 * const receiver = createWebhookReceiver({ scheme: github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }) });
 * receiver.on("push", (event) => console.log("push", event.id));
 * const webhooks = handleWebhooks(receiver);
 * const app = new Hono().post("/webhooks/github", (c) => webhooks(c.req.raw));
 * ```
 */
export function handleWebhooks(receiver: ReceiverLike, options?: HandleWebhooksOptions<Request>): FetchHandler {
  assertReceiver(receiver, `${ADAPTER}: handleWebhooks()`);
  const settings = resolveSettings(ADAPTER, "handleWebhooks", options, urlParts, receiver.scheme);
  const answer = receiveAnswer(receiver, settings);
  const { maxBodyBytes, url } = settings;
  // No async function: the body's one `then` runs the receiver and builds the Response, and
  // its promise is the one returned (an async function would add its own promise and the
  // turns of an `await` per request).
  return (request) => {
    try {
      const head: RequestHead = { headers: request.headers, method: request.method, url: url(request) };
      // A native promise is returned as it is.
      return Promise.resolve(readWebBody(request, maxBodyBytes, (body) => respond(answer(head, body))));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
