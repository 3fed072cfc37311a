// The options every adapter takes, resolved and checked once, when the route is built.
import { assertTolerance } from "../../internal/timestamp";
import type { WebhookResponse } from "../../response";
import type { VerifyOptions, WebhookRequest, WebhookScheme } from "../../types";
import { nowMs } from "../../verify";

/**
 * What `handleWebhooks` needs from a receiver: `createWebhookReceiver()`'s result, or any
 * object that turns a raw request into the response to write.
 */
export interface ReceiverLike {
  /** Verifies, deduplicates and dispatches one request; resolves to the response to write as it is. */
  receive(request: WebhookRequest): Promise<WebhookResponse>;
  /** The receiver's scheme: when it signs no URL, the adapter does not build one per request. */
  readonly scheme?: WebhookScheme<unknown>;
}

/** Where an adapter reports a misconfigured route or a failing handler. `console` fits. */
export interface AdapterLogger {
  /** A setup mistake, such as a body already parsed by a JSON parser (`body_not_raw`). */
  warn(message: string): void;
  /** A handler that threw (Node adapters). */
  error(message: string): void;
}

/** Options every adapter's `verifyWebhook` and `handleWebhooks` accept. */
export interface AdapterOptions<TRequest> {
  /**
   * The largest body accepted, in bytes. A larger one is answered 413 `payload_too_large`
   * without being buffered: a declared `Content-Length` is checked before reading, and a
   * streamed body is counted as it arrives and dropped the moment it passes the limit.
   *
   * Stripe, GitHub, Slack and Standard Webhooks events are a few kilobytes to a few hundred,
   * so 1 MiB leaves room for large ones while bounding the memory a flood of big forged
   * bodies can pin: a body must be held whole before its signature can be checked. Raise it
   * for providers that send more (GitHub caps payloads at 25 MB).
   *
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * The public origin the provider sends to, such as `"https://hooks.example.com"`, when a
   * proxy in front of this server changes the scheme or host. The request's path and query
   * are appended. Only URL-signed schemes (Twilio, Square, …) read the URL.
   *
   * @default the scheme and `Host` the server saw
   */
  baseUrl?: string;
  /**
   * Computes the full public URL the provider requested, for URL-signed schemes, when
   * `baseUrl` is not enough. Wins over `baseUrl`.
   */
  publicUrl?: (request: TRequest) => string | undefined;
  /**
   * Where a body that was already parsed (`body_not_raw`, a setup mistake) is reported, once
   * per logger and process, and, for the Node adapters, a handler that threw.
   *
   * @default console
   */
  logger?: AdapterLogger;
}

/** Options of an adapter's `verifyWebhook`: the adapter's, plus `now` and `toleranceSeconds` passed to verification. */
export interface VerifyWebhookOptions<TRequest> extends AdapterOptions<TRequest>, VerifyOptions {}

/** Options of an adapter's `handleWebhooks`. The clock and tolerance are the receiver's. */
export type HandleWebhooksOptions<TRequest> = AdapterOptions<TRequest>;

/** The adapters' names, as they prefix messages: the subpath a user imported. */
export type AdapterName = "hookguard/express" | "hookguard/fastify" | "hookguard/node" | "hookguard/fetch";

/** How an adapter finds the request's path and its URL as the server saw it. */
export interface UrlParts<TRequest> {
  /** The path and query, e.g. `/webhooks/twilio?x=1`. */
  path(request: TRequest): string;
  /** The full URL from the server's own view (scheme, `Host`, path). */
  local(request: TRequest): string | undefined;
}

/** What the pipeline needs of the options. */
export interface PipelineSettings {
  readonly adapter: AdapterName;
  readonly maxBodyBytes: number;
  readonly logger: AdapterLogger;
  readonly verify: VerifyOptions | undefined;
}

/** Options after defaults and checks. */
export interface Settings<TRequest> extends PipelineSettings {
  /** The URL passed to URL-signed schemes. */
  readonly url: (request: TRequest) => string | undefined;
}

function noUrl(): undefined {
  return undefined;
}

// See `maxBodyBytes` above for why.
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function urlResolver<TRequest>(where: string, options: AdapterOptions<TRequest>, parts: UrlParts<TRequest>): (request: TRequest) => string | undefined {
  const { publicUrl, baseUrl } = options;
  if (publicUrl !== undefined) {
    if (typeof publicUrl !== "function") throw new TypeError(`${where}: \`publicUrl\` must be a function (request) => string, got ${typeof publicUrl}`);
    return publicUrl;
  }
  if (baseUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = typeof baseUrl === "string" ? new URL(baseUrl) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      throw new TypeError(`${where}: \`baseUrl\` must be an absolute http(s) URL such as "https://hooks.example.com", got ${JSON.stringify(baseUrl)}`);
    }
    // Keep what the user wrote (a signed URL is compared byte for byte), minus a trailing "/".
    const base = baseUrl.endsWith("/") ? baseUrl.slice(0, -1) : baseUrl;
    return (request) => base + parts.path(request);
  }
  return parts.local;
}

/**
 * Applies defaults and rejects bad options at construction, naming the option, so a typo
 * fails at startup and not on the first delivery.
 */
export function resolveSettings<TRequest>(
  adapter: AdapterName,
  fn: string,
  options: VerifyWebhookOptions<TRequest> | undefined,
  parts: UrlParts<TRequest>,
  scheme: WebhookScheme<unknown> | undefined,
): Settings<TRequest> {
  const where = `${adapter}: ${fn}()`;
  const { maxBodyBytes = DEFAULT_MAX_BODY_BYTES, logger = console, now, toleranceSeconds } = options ?? {};
  if (typeof maxBodyBytes !== "number" || !Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError(`${where}: \`maxBodyBytes\` must be a positive integer number of bytes, got ${String(maxBodyBytes)}`);
  }
  if (typeof logger?.warn !== "function" || typeof logger.error !== "function") {
    throw new TypeError(`${where}: \`logger\` must have warn(message) and error(message) methods, like console`);
  }
  if (toleranceSeconds !== undefined) assertTolerance(toleranceSeconds, `${adapter} ${fn}({ toleranceSeconds })`);
  if (now !== undefined) nowMs(now);
  const verify = now === undefined && toleranceSeconds === undefined ? undefined : { now, toleranceSeconds };
  // Checked whatever the scheme, so a bad baseUrl fails when the route is built either way.
  const url = urlResolver(where, options ?? {}, parts);
  return { adapter, maxBodyBytes, logger, url: scheme?.usesUrl === false ? noUrl : url, verify };
}

export function assertScheme(scheme: WebhookScheme<unknown> | undefined, where: string): void {
  if (!scheme || typeof scheme.verify !== "function") {
    throw new TypeError(`${where}: the first argument must be a scheme, e.g. stripe({ secret }) or github({ secret })`);
  }
}

export function assertHandler(handler: unknown, where: string): void {
  if (typeof handler !== "function") throw new TypeError(`${where}: the second argument must be the handler function`);
}

export function assertReceiver(receiver: ReceiverLike | undefined, where: string): void {
  if (!receiver || typeof receiver.receive !== "function") {
    throw new TypeError(`${where}: the first argument must be a receiver from createWebhookReceiver({ scheme })`);
  }
}
