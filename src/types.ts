/**
 * The shapes shared by every part of hookguard: requests, verified webhooks, schemes.
 *
 * @module
 */
import type { WebhookVerificationErrorCode } from "./errors";
import type { WebhookResponse } from "./response";

/** A raw request body: exactly the bytes the provider sent. */
export type WebhookBody = string | Uint8Array | ArrayBuffer;

/**
 * Request headers in any of the shapes servers hand out: a Web `Headers`, Node's
 * `IncomingHttpHeaders`, or a plain record. Names are matched case-insensitively.
 */
export type WebhookHeaders =
  | {
      /** Reads a header, case-insensitively, as the Web `Headers` class does. */
      get(name: string): string | null;
    }
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** What {@link verifyWebhook} needs from an incoming request. */
export interface WebhookRequest {
  /** The raw body, before any parsing. A parsed object is rejected with `body_not_raw`. */
  body: WebhookBody;
  /** The request headers. */
  headers: WebhookHeaders;
  /** The full public URL the provider requested (URL-signed schemes only). */
  url?: string;
  /** The HTTP method (URL-signed schemes only). @default "POST" */
  method?: string;
}

/** A request whose signature matched: the event, ready to handle. */
export interface VerifiedWebhook<TPayload = unknown> {
  /** The provider's event or delivery id: the idempotency key. `undefined` if the provider sends none. */
  id: string | undefined;
  /** The event type (e.g. `invoice.paid`, `push`), where the provider says it. */
  type: string | undefined;
  /** The signed timestamp, for schemes that sign one. */
  timestamp: Date | undefined;
  /** The body parsed by its content type (JSON, or form-urlencoded), only after the signature matched. */
  payload: TPayload;
  /** The body exactly as it was passed in (an `ArrayBuffer` is viewed as a `Uint8Array`). */
  rawBody: string | Uint8Array;
  /** The scheme's name, e.g. `"stripe"`. */
  scheme: string;
  /** Which of the configured secrets matched (0 = the first). */
  secretIndex: number;
}

/** Options for {@link verifyWebhook}. */
export interface VerifyOptions {
  /** The current time, for tests. @default Date.now() */
  now?: Date | number;
  /**
   * Overrides the scheme's timestamp tolerance for this call, in seconds. `Infinity` disables the check.
   * @default the scheme's `toleranceSeconds`
   */
  toleranceSeconds?: number;
}

/** Options for {@link signWebhook}. */
export interface SignOptions {
  /** The event or delivery id, for schemes that carry it in a header. @default a random UUID */
  id?: string;
  /** The event type, for schemes that carry it in a header. */
  type?: string;
  /** The timestamp to sign. @default now */
  timestamp?: Date | number;
  /** The `content-type` header to send. @default "application/json" */
  contentType?: string;
  /** The full URL the request goes to (URL-signed schemes). */
  url?: string;
  /** The HTTP method (URL-signed schemes). @default "POST" */
  method?: string;
}

/** A request as a scheme sees it: the body normalised, headers behind a case-insensitive reader. */
export interface SchemeRequest {
  /** The raw body. */
  readonly body: string | Uint8Array;
  /** Reads a header by its lower-case name; several values are joined with `", "`. */
  header(name: string): string | undefined;
  /** The request's public URL, if known. */
  readonly url: string | undefined;
  /** The request method, if known. */
  readonly method: string | undefined;
}

/** The clock and window a scheme checks timestamps against. */
export interface SchemeContext {
  /** Now, in epoch milliseconds. */
  readonly nowMs: number;
  /** The per-call tolerance override, in seconds, if any. */
  readonly toleranceSeconds: number | undefined;
}

/**
 * Why a request failed verification, as a value (no `Error`, no stack): the hot reject
 * path of a receiver never pays for an exception.
 */
export interface VerifyFailure {
  /** Always `false`: tells a failure from a success. */
  readonly ok: false;
  /** Why verification failed; the code a {@link WebhookVerificationError} would carry. */
  readonly code: WebhookVerificationErrorCode;
  /** The header concerned, if any (a name, never a value). */
  readonly header?: string | undefined;
  /** A short, safe explanation: never a secret, a signature, or the payload. */
  readonly detail?: string | undefined;
}

/** The result of a scheme's verification. */
export type VerifyOutcome<TPayload = unknown> =
  | {
      /** Always `true`: the signature matched. */
      readonly ok: true;
      /** The verified event. */
      readonly webhook: VerifiedWebhook<TPayload>;
    }
  | VerifyFailure;

/** Options resolved by {@link signWebhook} before it reaches a scheme. */
export interface ResolvedSignOptions {
  /** {@link SignOptions.id}, as given; a scheme that sends an id header picks one when absent. */
  readonly id: string | undefined;
  /** {@link SignOptions.type}, as given. */
  readonly type: string | undefined;
  /** The timestamp to sign, in epoch milliseconds (now, unless {@link SignOptions.timestamp} was given). */
  readonly timestampMs: number;
  /** The `content-type` to send; `"application/json"` unless given. */
  readonly contentType: string;
  /** {@link SignOptions.url}, as given. */
  readonly url: string | undefined;
  /** The HTTP method; `"POST"` unless given. */
  readonly method: string;
}

/**
 * A provider's signing scheme. Build one with a factory (`stripe()`, `github()`,
 * `hmacScheme()`, …); key material is prepared once, when the factory runs.
 *
 * Writing one by hand is possible (implement `verify` and `sign`), but `hmacScheme`
 * covers most providers declaratively.
 */
export interface WebhookScheme<TPayload = unknown> {
  /** A short name, e.g. `"stripe"`; also the default idempotency namespace. */
  readonly name: string;
  /** The timestamp tolerance in seconds, or `undefined` if the scheme signs no timestamp. */
  readonly toleranceSeconds: number | undefined;
  /**
   * Whether `verify` reads `request.url` (the scheme signs the request URL, as Twilio does).
   * `false` lets the adapters skip building the public URL of every request; leave it out
   * if the scheme may read it.
   */
  readonly usesUrl?: boolean;
  /** Verifies a request. Must not throw for any input; report failures as values. */
  verify(request: SchemeRequest, context: SchemeContext): VerifyOutcome<TPayload> | Promise<VerifyOutcome<TPayload>>;
  /**
   * Answers a provider's verified handshake (Slack `url_verification`, …) with the response
   * the provider expects; `undefined` for an ordinary event. Called only after verification,
   * so the endpoint never becomes an oracle for unauthenticated challenges.
   */
  handshake?(event: VerifiedWebhook<TPayload>): WebhookResponse | undefined;
  /** Produces the headers the provider would send for this body, signed with the first secret. */
  sign(body: string | Uint8Array, options: ResolvedSignOptions): Promise<Record<string, string>>;
}
