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
  type Settings,
  type UrlParts,
  type VerifyWebhookOptions,
} from "./internal/options";
import { receivePipeline, verifyPipeline, type Exchange } from "./internal/pipeline";
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

function exchange(request: Request, settings: Settings<Request>): Exchange {
  return { body: readWebBody(request, settings.maxBodyBytes), headers: request.headers, method: request.method, url: settings.url(request) };
}

// Statuses whose response must not carry a body; `new Response(body, …)` throws for them.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

// `response` is never `undefined` here: the Web body reader has no "aborted" outcome (a
// failing stream rejects instead), so every body failure comes with a response.
function toResponse(response: WebhookResponse | undefined): Response {
  if (response === undefined) throw new TypeError("hookguard/fetch: no response to write");
  return new Response(NULL_BODY.has(response.status) ? null : response.body, { status: response.status, headers: response.headers });
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
  const run = verifyPipeline(scheme, settings);
  return async (request, ...args) => {
    const { webhook, response } = await run(exchange(request, settings));
    if (webhook === undefined) return toResponse(response);
    return handler(webhook, request, ...args);
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
  const run = receivePipeline(receiver, settings);
  return async (request) => toResponse(await run(exchange(request, settings)));
}
