/**
 * Fastify adapter: encapsulated plugins that register one POST webhook route with its own
 * raw-body parser. JSON parsing in the rest of the app is left as it is.
 *
 * ```ts
 * import { verifyWebhook, handleWebhooks } from "hookguard/fastify";
 * app.register(verifyWebhook(scheme, handler), { path: "/webhooks/stripe" });
 * ```
 *
 * @module hookguard/fastify
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { WebhookResponse } from "../response";
import type { VerifiedWebhook, WebhookScheme } from "../types";
import { EMPTY, bytesAlreadyRead, describeBody, readStreamTo, withinLimit, type BodyHolder } from "./internal/node-body";
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
import { receivePipeline, verifyPipeline, type Exchange, type RawBody } from "./internal/pipeline";
import { isThenable } from "../internal/thenable";

export type { AdapterLogger, AdapterOptions, HandleWebhooksOptions, ReceiverLike, VerifyWebhookOptions } from "./internal/options";

/** The options given to `app.register(plugin, { path })`. */
export interface WebhookRouteOptions {
  /** The route's path, e.g. `"/webhooks/stripe"`; a `prefix` given to `register` is prepended. */
  path: string;
}

/**
 * A handler that runs for verified webhooks only: the event first, then Fastify's request
 * (its `body` is the raw Buffer) and reply. Return the reply or a value, as in any async
 * Fastify handler.
 */
export type FastifyWebhookHandler<TPayload> = (event: VerifiedWebhook<TPayload>, request: FastifyRequest, reply: FastifyReply) => unknown;

const ADAPTER = "hookguard/fastify";

const urlParts: UrlParts<FastifyRequest> = {
  path: (request) => request.url,
  local: (request) => `${request.protocol}://${request.host}${request.url}`,
};

// Why the route's parser refused a body (too large, aborted), by request. A body it read
// needs no entry: it arrives as the raw Buffer in `request.body`. (A WeakMap entry per
// request costs more than the rest of the parser: ephemerons are slow for the GC.)
const refused = new WeakMap<FastifyRequest, RawBody>();

/**
 * Scopes the raw-body parser to this plugin's context. Fastify encapsulates `register`ed
 * plugins, so the parsers of the parent (JSON, …) stay as they are everywhere else.
 */
function route(
  fastify: FastifyInstance,
  opts: WebhookRouteOptions,
  fn: string,
  maxBodyBytes: number,
  handle: (request: FastifyRequest, reply: FastifyReply) => unknown,
): void {
  const path = opts?.path;
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${ADAPTER}: app.register(${fn}(…), { path }) needs the route's path, e.g. { path: "/webhooks/stripe" }`);
  }
  fastify.removeAllContentTypeParsers();
  // The body is handed to Fastify from the stream's own "end": no promise in between.
  fastify.addContentTypeParser("*", (request, payload, done) => {
    readStreamTo(payload, request.headers, maxBodyBytes, alreadyRead, (result) => {
      if (!result.ok) refused.set(request, result);
      done(null, result.ok ? result.body : undefined);
    });
  });
  fastify.post(path, handle);
}

function alreadyRead(): string {
  return "the body stream was already read, by a preParsing hook or another parser";
}

function rawBodyOf(request: FastifyRequest, maxBodyBytes: number): RawBody {
  const { body } = request;
  // The route's parser read it (or a plugin put raw bytes there): as it is, within the limit.
  if (body instanceof Uint8Array) return withinLimit(body, maxBodyBytes);
  const failed = refused.get(request);
  if (failed) return failed;
  // Fastify runs no parser for a request without a body; anything else here was put by
  // someone else (a hook, a plugin like fastify-raw-body that also keeps `rawBody`).
  const holder = request as unknown as BodyHolder;
  const kept = bytesAlreadyRead(holder, maxBodyBytes);
  if (kept) return kept;
  if (request.body === undefined || request.body === null) return EMPTY;
  return { ok: false, reason: "not_raw", detail: describeBody("request.body", request.body) };
}

function exchange(request: FastifyRequest, settings: Settings<FastifyRequest>): Exchange {
  return { body: rawBodyOf(request, settings.maxBodyBytes), headers: request.headers, method: request.method, url: settings.url(request) };
}

function send(reply: FastifyReply, response: WebhookResponse | undefined): void {
  if (response === undefined) {
    // The client went away mid-body: nobody to answer.
    reply.hijack();
    reply.raw.destroy();
    return;
  }
  reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * An encapsulated plugin that registers `POST path` for one handler, which runs only for a
 * verified webhook. The route reads the raw body itself (its parser is scoped to the
 * plugin, so `application/json` stays parsed as JSON everywhere else) and answers a bad
 * request with the failure response (`{ error, message }` and the code's status) without
 * calling the handler. Errors the handler throws go to Fastify's error handler.
 *
 * @param scheme - `stripe({ secret })`, `github({ secret })`, …
 * @param handler - `(event, request, reply)`; `request.body` is the raw Buffer.
 * @param options - `maxBodyBytes`, `now` / `toleranceSeconds`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { stripe } from "hookguard";
 * import { verifyWebhook } from "hookguard/fastify";
 *
 * const app = Fastify();
 * app.register(verifyWebhook(stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }), async (event, request, reply) => {
 *   request.log.info({ type: event.type, id: event.id }, "stripe event");
 *   return reply.code(204).send();
 * }), { path: "/webhooks/stripe" });
 * ```
 */
export function verifyWebhook<TPayload>(
  scheme: WebhookScheme<TPayload>,
  handler: FastifyWebhookHandler<TPayload>,
  options?: VerifyWebhookOptions<FastifyRequest>,
): FastifyPluginAsync<WebhookRouteOptions> {
  assertScheme(scheme, `${ADAPTER}: verifyWebhook()`);
  assertHandler(handler, `${ADAPTER}: verifyWebhook()`);
  const settings = resolveSettings(ADAPTER, "verifyWebhook", options, urlParts, scheme);
  const run = verifyPipeline(scheme, settings);
  return async function hookguardVerifyWebhook(fastify, opts) {
    route(fastify, opts, "verifyWebhook", settings.maxBodyBytes, async (request, reply) => {
      const verifying = run(exchange(request, settings));
      const { webhook, response } = isThenable(verifying) ? await verifying : verifying;
      if (webhook !== undefined) return handler(webhook, request, reply);
      send(reply, response);
      return reply;
    });
  };
}

/**
 * An encapsulated plugin that registers `POST path` for a whole receiver: reads the raw
 * body, calls `receiver.receive()`, and sends its response (status, headers, body) as it is.
 *
 * @param receiver - from `createWebhookReceiver({ scheme })`, with its handlers registered.
 * @param options - `maxBodyBytes`, `baseUrl` / `publicUrl` (URL-signed schemes), `logger`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { createWebhookReceiver, github } from "hookguard";
 * import { handleWebhooks } from "hookguard/fastify";
 *
 * const receiver = createWebhookReceiver({ scheme: github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }) });
 * receiver.on("push", (event) => console.log("push", event.id));
 * Fastify().register(handleWebhooks(receiver), { path: "/webhooks/github" });
 * ```
 */
export function handleWebhooks(receiver: ReceiverLike, options?: HandleWebhooksOptions<FastifyRequest>): FastifyPluginAsync<WebhookRouteOptions> {
  assertReceiver(receiver, `${ADAPTER}: handleWebhooks()`);
  const settings = resolveSettings(ADAPTER, "handleWebhooks", options, urlParts, receiver.scheme);
  const run = receivePipeline(receiver, settings);
  return async function hookguardHandleWebhooks(fastify, opts) {
    // A plain function that has sent the reply and returns undefined when the answer is a
    // value (the usual case: the parser read the body, node:crypto and memoryStore answer at
    // once): Fastify then has no promise to wrap and no thenable reply to resolve.
    route(fastify, opts, "handleWebhooks", settings.maxBodyBytes, (request, reply) => {
      const answer = run(exchange(request, settings));
      if (!isThenable(answer)) return send(reply, answer);
      return answer.then((response) => send(reply, response));
    });
  };
}
