// The one pipeline every adapter runs: raw body → verification (or a whole receiver) → the
// response to write. Adapters only read the body and headers and write what comes out.
import { errorResponse, failureResponse, type WebhookResponse } from "../../response";
import type { VerifiedWebhook, VerifyOutcome, WebhookHeaders, WebhookScheme } from "../../types";
import { verifyRequest } from "../../verify";
import { receiveNowOf } from "../../internal/receive-now";
import { isThenable } from "../../internal/thenable";
import type { AdapterLogger, AdapterName, PipelineSettings, ReceiverLike } from "./options";

/** The raw body as an adapter read it, or why it could not. */
export type RawBody =
  | { readonly ok: true; readonly body: string | Uint8Array }
  | { readonly ok: false; readonly reason: "too_large" }
  /** Parsed or consumed before the adapter ran; `detail` says what was found. */
  | { readonly ok: false; readonly reason: "not_raw"; readonly detail: string }
  /** The client went away mid-body: there is nobody to answer. */
  | { readonly ok: false; readonly reason: "aborted" };

/** What the pipeline reads of a request besides its body. */
export interface RequestHead {
  readonly headers: WebhookHeaders;
  readonly method: string | undefined;
  readonly url: string | undefined;
}

/** One request as the pipeline sees it: what the adapter read from its framework. */
export interface Exchange extends RequestHead {
  readonly body: RawBody | Promise<RawBody>;
}

/**
 * The pipeline's answer for a wrapped handler: the verified event to hand over, or the
 * response to write instead (`undefined` when the client is gone and nothing can be written).
 */
export type Verified<TPayload> =
  | { readonly webhook: VerifiedWebhook<TPayload>; readonly response?: undefined }
  | { readonly webhook?: undefined; readonly response: WebhookResponse | undefined };

// What to change, per framework: the fix for the classic "body parsed before the webhook
// route" mistake differs with each one.
const NOT_RAW_FIX: Readonly<Record<AdapterName, string>> = {
  "hookguard/express":
    'Declare the webhook route before app.use(express.json()) (or any body parser that matches it), or give the route its own raw parser: app.post(path, express.raw({ type: "*/*" }), handler). To keep a global express.json(), save the bytes with express.json({ verify: (req, _res, buf) => { req.rawBody = buf } }).',
  "hookguard/fastify":
    "Register the route with app.register(verifyWebhook(scheme, handler), { path }) or app.register(handleWebhooks(receiver), { path }): the plugin scopes a raw-body parser to its own route. Do not wrap it in fastify-plugin, and do not replace request.body in a hook.",
  "hookguard/node":
    "Hand the request to the webhook handler before anything reads its stream, or set req.rawBody to the raw Buffer before calling it.",
  "hookguard/fetch":
    "Pass the untouched Request (in Hono, c.req.raw before any c.req.json(), c.req.text() or validator); code that must read it first should pass request.clone() to the webhook handler.",
};

function notRawMessage(adapter: AdapterName, detail: string): string {
  return `${adapter}: the request body was already parsed or read before the webhook handler (${detail}), so the raw bytes the signature covers are gone. ${NOT_RAW_FIX[adapter]}`;
}

// A misconfigured route fails every delivery the same way: say it once per logger, not once
// per request, and never with a header value or the body.
const warned = new WeakSet<AdapterLogger>();

function notRawResponse(settings: PipelineSettings, detail: string): WebhookResponse {
  const message = notRawMessage(settings.adapter, detail);
  if (!warned.has(settings.logger)) {
    warned.add(settings.logger);
    settings.logger.warn(message);
  }
  return errorResponse("body_not_raw", 500, message);
}

function tooLargeResponse(settings: PipelineSettings): WebhookResponse {
  return errorResponse(
    "payload_too_large",
    413,
    `${settings.adapter}: the body is larger than maxBodyBytes (${settings.maxBodyBytes} bytes); raise maxBodyBytes if this provider sends larger events.`,
    // On Node the rest of the body stays unread on the socket: closing the connection after
    // the answer stops the sender and keeps the socket from being reused mid-body. Web
    // runtimes own their connections (and HTTP/2 forbids the header): the reader cancels.
    settings.adapter === "hookguard/fetch" ? undefined : { connection: "close" },
  );
}

/** The answer to a body that could not be read; `undefined` when the client is gone. */
function bodyFailures(settings: PipelineSettings): (body: Exclude<RawBody, { ok: true }>) => WebhookResponse | undefined {
  const tooLarge = tooLargeResponse(settings);
  return (body) => (body.reason === "too_large" ? tooLarge : body.reason === "not_raw" ? notRawResponse(settings, body.detail) : undefined);
}

/**
 * What `verifyWebhook` runs once the body is read: the verified event, or the failure
 * response — a value when verification finished at once (node:crypto), else a promise.
 * Never throws for a bad request: failures are values all the way, so forged requests cost
 * no `Error`. A provider's verified handshake (Slack `url_verification`, …) is answered here
 * as the receiver does, without reaching the handler.
 */
export function verifyAnswer<TPayload>(scheme: WebhookScheme<TPayload>, settings: PipelineSettings): (head: RequestHead, body: RawBody) => Verified<TPayload> | Promise<Verified<TPayload>> {
  const bodyFailure = bodyFailures(settings);
  const decide = (outcome: VerifyOutcome<TPayload>): Verified<TPayload> => {
    if (!outcome.ok) return { response: failureResponse(outcome, scheme.name) };
    const handshake = scheme.handshake?.(outcome.webhook);
    return handshake ? { response: handshake } : outcome;
  };
  return (head, body) => {
    if (!body.ok) return { response: bodyFailure(body) };
    const outcome = verifyRequest({ body: body.body, headers: head.headers, url: head.url, method: head.method }, scheme, settings.verify);
    return isThenable(outcome) ? outcome.then(decide) : decide(outcome);
  };
}

/** The pipeline of `verifyWebhook`: {@link verifyAnswer} once the body is in. */
export function verifyPipeline<TPayload>(scheme: WebhookScheme<TPayload>, settings: PipelineSettings): (exchange: Exchange) => Verified<TPayload> | Promise<Verified<TPayload>> {
  const answer = verifyAnswer(scheme, settings);
  return (exchange) => {
    const body = exchange.body;
    return isThenable(body) ? body.then((read) => answer(exchange, read)) : answer(exchange, body);
  };
}

/** A receiver's answer: a value when it is ready at once, `undefined` when the client is gone. */
export type Answer = WebhookResponse | undefined | Promise<WebhookResponse | undefined>;

/**
 * The receiver's answer to a request whose body was read: what `handleWebhooks` runs once
 * the bytes are in. For an adapter that reads the body itself and continues in the same
 * `then` (the Web adapter); the others take {@link receivePipeline} or {@link receiveRequest}.
 */
export function receiveAnswer(receiver: ReceiverLike, settings: PipelineSettings): (head: RequestHead, body: RawBody) => Answer {
  const receive = receiveRequest(receiver, settings);
  return (head, body) => receive(body, head.headers, head.method, head.url);
}

/** {@link receiveAnswer} with the request's parts as arguments: no head object per request. */
export function receiveRequest(
  receiver: ReceiverLike,
  settings: PipelineSettings,
): (body: RawBody, headers: WebhookHeaders, method: string | undefined, url: string | undefined) => Answer {
  const bodyFailure = bodyFailures(settings);
  return (body, headers, method, url) => {
    if (!body.ok) return bodyFailure(body);
    const request = { body: body.body, headers, url, method };
    // hookguard's receiver answers with a value when it has one at once: taken as it is, it
    // saves the promise `receive` wraps it in and the turns spent resolving one promise
    // with another (read per request: a `receive` replaced later is still honoured).
    const now = receiveNowOf(receiver.receive);
    return now !== undefined ? now(request) : receiver.receive(request);
  };
}

/** The pipeline of `handleWebhooks`: the receiver's response, as it is. */
export function receivePipeline(receiver: ReceiverLike, settings: PipelineSettings): (exchange: Exchange) => Answer {
  const answer = receiveAnswer(receiver, settings);
  return (exchange) => {
    const body = exchange.body;
    return isThenable(body) ? body.then((read) => answer(exchange, read)) : answer(exchange, body);
  };
}
