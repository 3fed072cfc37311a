/**
 * Node `http` adapter: request listeners for `http.createServer()` (and anything that hands
 * out Node's `IncomingMessage` / `ServerResponse`) that read the raw body themselves.
 *
 * ```ts
 * import { verifyWebhook, handleWebhooks } from "hookguard/node";
 * ```
 *
 * @module hookguard/node
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { errorResponse } from "../response";
import type { VerifiedWebhook, WebhookScheme } from "../types";
import { nodeExchange } from "./internal/node-body";
import { writeNodeResponse } from "./internal/node-response";
import {
  assertHandler,
  assertReceiver,
  assertScheme,
  resolveSettings,
  type AdapterLogger,
  type HandleWebhooksOptions,
  type ReceiverLike,
  type UrlParts,
  type VerifyWebhookOptions,
} from "./internal/options";
import { receiveNodeRequests } from "./internal/node-listener";
import { verifyPipeline } from "./internal/pipeline";

export type { AdapterLogger, AdapterOptions, HandleWebhooksOptions, ReceiverLike, VerifyWebhookOptions } from "./internal/options";

/** A handler that runs for verified webhooks only: the event first, then Node's request and response. */
export type NodeWebhookHandler<TPayload, TRequest extends IncomingMessage = IncomingMessage, TResponse extends ServerResponse = ServerResponse> = (
  event: VerifiedWebhook<TPayload>,
  req: TRequest,
  res: TResponse,
) => unknown;

/** The request listener both functions return: give it to `http.createServer()`. */
export type NodeListener<TRequest extends IncomingMessage = IncomingMessage, TResponse extends ServerResponse = ServerResponse> = (
  req: TRequest,
  res: TResponse,
) => Promise<void>;

const ADAPTER = "hookguard/node";

const urlParts: UrlParts<IncomingMessage> = {
  path: (req) => req.url ?? "/",
  local: (req) => `${(req.socket as TLSSocket | undefined)?.encrypted ? "https" : "http"}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`,
};

const FAILED = errorResponse("handler_failed", 500, "hookguard/node: handling the webhook failed; the error is in the server's log.");

// node:http has nowhere to send an error: a rejected listener would be an unhandled
// rejection that ends the process. Log it and answer 500, so the provider retries.
function fail(res: ServerResponse, logger: AdapterLogger, error: unknown): void {
  logger.error(`hookguard/node: handling a webhook failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (!res.headersSent) writeNodeResponse(res, FAILED);
  else if (!res.writableEnded) res.destroy();
}

/**
 * Wraps a `node:http` request listener so it runs only for a verified webhook. The adapter
 * reads the raw body (at most `maxBodyBytes`), verifies it, and answers a bad request with
 * the failure response (`{ error, message }` and the code's status) without calling the
 * handler. A handler that throws is logged and answered 500 `handler_failed`.
 *
 * @param scheme - `stripe({ secret })`, `github({ secret })`, …
 * @param handler - `(event, req, res)`: write the response on `res`.
 * @param options - `maxBodyBytes`, `now` / `toleranceSeconds`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { github } from "hookguard";
 * import { verifyWebhook } from "hookguard/node";
 *
 * createServer(verifyWebhook(github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }), (event, req, res) => {
 *   console.log(event.type, event.id);
 *   res.writeHead(204).end();
 * })).listen(3000);
 * ```
 */
export function verifyWebhook<TPayload, TRequest extends IncomingMessage = IncomingMessage, TResponse extends ServerResponse = ServerResponse>(
  scheme: WebhookScheme<TPayload>,
  handler: NodeWebhookHandler<TPayload, TRequest, TResponse>,
  options?: VerifyWebhookOptions<TRequest>,
): NodeListener<TRequest, TResponse> {
  assertScheme(scheme, `${ADAPTER}: verifyWebhook()`);
  assertHandler(handler, `${ADAPTER}: verifyWebhook()`);
  const settings = resolveSettings<TRequest>(ADAPTER, "verifyWebhook", options, urlParts, scheme);
  const run = verifyPipeline(scheme, settings);
  return async (req, res) => {
    try {
      const { webhook, response } = await run(nodeExchange(req, settings));
      if (webhook === undefined) writeNodeResponse(res, response);
      else await handler(webhook, req, res);
    } catch (error) {
      fail(res, settings.logger, error);
    }
  };
}

/**
 * Mounts a whole receiver as a `node:http` request listener: reads the raw body, calls
 * `receiver.receive()`, and writes its response (status, headers, body) as it is. Route
 * by path yourself if the server serves more than webhooks.
 *
 * @param receiver - from `createWebhookReceiver({ scheme })`, with its handlers registered.
 * @param options - `maxBodyBytes`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createWebhookReceiver, stripe } from "hookguard";
 * import { handleWebhooks } from "hookguard/node";
 *
 * const receiver = createWebhookReceiver({ scheme: stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }) });
 * receiver.on("invoice.paid", (event) => console.log("paid", event.id));
 * createServer(handleWebhooks(receiver)).listen(3000);
 * ```
 */
export function handleWebhooks<TRequest extends IncomingMessage = IncomingMessage, TResponse extends ServerResponse = ServerResponse>(
  receiver: ReceiverLike,
  options?: HandleWebhooksOptions<TRequest>,
): NodeListener<TRequest, TResponse> {
  assertReceiver(receiver, `${ADAPTER}: handleWebhooks()`);
  const settings = resolveSettings<TRequest>(ADAPTER, "handleWebhooks", options, urlParts, receiver.scheme);
  const listen = receiveNodeRequests<TRequest, TResponse, undefined>(receiver, settings, (res, error) => fail(res, settings.logger, error));
  return (req, res) => listen(req, res, undefined);
}
