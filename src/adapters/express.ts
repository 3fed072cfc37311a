/**
 * Express adapter (Express 4 and 5): route handlers that read the raw body themselves and
 * only run for a verified webhook.
 *
 * ```ts
 * import { verifyWebhook, handleWebhooks } from "hookguard/express";
 * ```
 *
 * @module hookguard/express
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { VerifiedWebhook, WebhookScheme } from "../types";
import { nodeExchange } from "./internal/node-body";
import { writeNodeResponse } from "./internal/node-response";
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
import { receiveNodeRequests } from "./internal/node-listener";
import { verifyPipeline } from "./internal/pipeline";

export type { AdapterLogger, AdapterOptions, HandleWebhooksOptions, ReceiverLike, VerifyWebhookOptions } from "./internal/options";

/**
 * What the adapter needs from an Express request (4 or 5): a Node request, plus the fields
 * Express adds. Typed by shape, so `express.Request` from either major fits.
 */
export interface ExpressRequestLike extends IncomingMessage {
  /** What a body parser left, if one ran: a Buffer from `express.raw()` is used as is. */
  body?: unknown;
  /** The URL before routers stripped their mount path. */
  readonly originalUrl?: string;
  /** `http` or `https`, honouring Express's `trust proxy` setting. */
  readonly protocol?: string;
}

/**
 * The request a handler gets when it does not annotate its own (annotate `req: Request`
 * from `express` to get the full Express type).
 */
export interface ExpressRequest extends ExpressRequestLike {
  /** Reads a request header. */
  get(name: string): string | undefined;
}

/**
 * The response a handler gets when it does not annotate its own (annotate `res: Response`
 * from `express` to get the full Express type). Express 4 and 5 both have these methods.
 */
export interface ExpressResponse extends ServerResponse {
  /** Sets the status code. */
  status(code: number): this;
  /** Sends a JSON body. */
  json(body?: unknown): this;
  /** Sends a body. */
  send(body?: unknown): this;
  /** Sends the status code and its standard text. */
  sendStatus(code: number): this;
  /** Sets a response header. */
  set(field: string, value?: string | string[]): this;
}

/** Express's `next`. */
export type NextLike = (error?: unknown) => void;

/** A route handler that runs for verified webhooks only: the event first, then Express's own arguments. */
export type ExpressWebhookHandler<TPayload, TRequest extends ExpressRequestLike = ExpressRequest, TResponse extends ServerResponse = ExpressResponse> = (
  event: VerifiedWebhook<TPayload>,
  req: TRequest,
  res: TResponse,
  next: NextLike,
) => unknown;

/** The middleware both functions return: give it to `app.post(path, …)`. */
export type ExpressMiddleware<TRequest extends ExpressRequestLike = ExpressRequest, TResponse extends ServerResponse = ExpressResponse> = (
  req: TRequest,
  res: TResponse,
  next: NextLike,
) => Promise<void>;

const ADAPTER = "hookguard/express";

const urlParts: UrlParts<ExpressRequestLike> = {
  path: (req) => req.originalUrl ?? req.url ?? "/",
  local: (req) => {
    const protocol = req.protocol ?? ((req.socket as TLSSocket | undefined)?.encrypted ? "https" : "http");
    return `${protocol}://${req.headers.host ?? "localhost"}${req.originalUrl ?? req.url ?? "/"}`;
  },
};

/**
 * Wraps an Express route handler so it runs only for a verified webhook. The adapter reads
 * the raw body itself (no `express.raw()` needed; a Buffer it left in `req.body` is used),
 * verifies it, and answers a bad request with the failure response (`{ error, message }`
 * and the code's status: 400, 401, 413) without calling the handler. A body already parsed
 * by `express.json()` is answered 500 `body_not_raw` with what to change, and logged once.
 * Errors the handler throws go to `next`, on Express 4 and 5 alike.
 *
 * @param scheme - `stripe({ secret })`, `github({ secret })`, …
 * @param handler - `(event, req, res, next)`; annotate `req`/`res` with Express's types to get them.
 * @param options - `maxBodyBytes`, `now` / `toleranceSeconds`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { stripe } from "hookguard";
 * import { verifyWebhook } from "hookguard/express";
 *
 * const app = express();
 * // Before app.use(express.json()): the webhook route needs the raw bytes.
 * app.post("/webhooks/stripe", verifyWebhook(stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }), (event, req, res) => {
 *   console.log(event.type, event.id);
 *   res.sendStatus(204);
 * }));
 * app.use(express.json());
 * ```
 */
export function verifyWebhook<TPayload, TRequest extends ExpressRequestLike = ExpressRequest, TResponse extends ServerResponse = ExpressResponse>(
  scheme: WebhookScheme<TPayload>,
  handler: ExpressWebhookHandler<TPayload, TRequest, TResponse>,
  options?: VerifyWebhookOptions<TRequest>,
): ExpressMiddleware<TRequest, TResponse> {
  assertScheme(scheme, `${ADAPTER}: verifyWebhook()`);
  assertHandler(handler, `${ADAPTER}: verifyWebhook()`);
  const settings = resolveSettings<TRequest>(ADAPTER, "verifyWebhook", options, urlParts, scheme);
  const run = verifyPipeline(scheme, settings);
  return async (req, res, next) => {
    try {
      const { webhook, response } = await run(nodeExchange(req, settings));
      if (webhook === undefined) writeNodeResponse(res, response);
      else await handler(webhook, req, res, next);
    } catch (error) {
      // Express 4 does not catch a rejected handler: pass it on, as Express 5 would.
      next(error);
    }
  };
}

/**
 * Mounts a whole receiver on an Express route: reads the raw body, calls
 * `receiver.receive()`, and writes its response (status, headers, body) as it is.
 *
 * @param receiver - from `createWebhookReceiver({ scheme })`, with its handlers registered.
 * @param options - `maxBodyBytes`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createWebhookReceiver, github } from "hookguard";
 * import { handleWebhooks } from "hookguard/express";
 *
 * const receiver = createWebhookReceiver({ scheme: github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }) });
 * receiver.on("push", (event) => console.log("push", event.id));
 * express().post("/webhooks/github", handleWebhooks(receiver)).listen(3000);
 * ```
 */
export function handleWebhooks<TRequest extends ExpressRequestLike = ExpressRequest, TResponse extends ServerResponse = ExpressResponse>(
  receiver: ReceiverLike,
  options?: HandleWebhooksOptions<TRequest>,
): ExpressMiddleware<TRequest, TResponse> {
  assertReceiver(receiver, `${ADAPTER}: handleWebhooks()`);
  const settings = resolveSettings<TRequest>(ADAPTER, "handleWebhooks", options, urlParts, receiver.scheme);
  return receiveNodeRequests<TRequest, TResponse, NextLike>(receiver, settings, (_res, error, next) => next(error));
}
