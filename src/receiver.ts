/**
 * `createWebhookReceiver`: verify, claim, dispatch to handlers, complete or release — so
 * each event reaches its handlers once, whatever the provider does.
 *
 * @module
 */
import { WebhookError, type WebhookReceiverErrorCode } from "./errors";
import type { JobProcessor, WebhookQueue } from "./queue";
import { inProcessQueue } from "./queue";
import { errorResponse, failureResponse, jsonResponse, type WebhookResponse } from "./response";
import type { ClaimResult, IdempotencyStore } from "./store";
import { CLAIM_COMPLETED, CLAIM_IN_PROGRESS, syncTwins } from "./internal/sync-store";
import { isThenable } from "./internal/thenable";
import { withReceiveNow } from "./internal/receive-now";
import { memoryStore } from "./stores/memory";
import type { VerifiedWebhook, VerifyOutcome, WebhookRequest, WebhookScheme } from "./types";
import { verifyRequest } from "./verify";

/**
 * Turns the receiver's type parameter into a map from event type to payload: either a
 * union of events discriminated by `type` (such as the `stripe` package's `Stripe.Event`)
 * or a map `{ "invoice.paid": InvoicePayload, … }`.
 */
export type EventMap<T> = [T] extends [{ type: string }]
  ? { [K in T["type"]]: Extract<T, { type: K }> }
  : T extends Record<string, unknown>
    ? T
    : Record<string, unknown>;

/** The event types a map knows. */
export type EventType<M> = keyof M & string;

/** The payloads of every type that starts with `${P}.`. */
export type PrefixPayload<M, P extends string> = M[Extract<keyof M, `${P}.${string}`>];

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** The namespaced idempotency key, or `undefined` for an event processed without dedupe. */
  readonly key: string | undefined;
  /** 1 on the first attempt; higher on background retries. */
  readonly attempt: number;
  /** True when running from the background queue (the provider already got its 202). */
  readonly background: boolean;
  /**
   * True when the out-of-order guard (`ordering`) found this event older than one already
   * seen for the same resource. Always false without `ordering`.
   */
  readonly stale: boolean;
  /** The payload version the handler sees (after upgrades), when the receiver is versioned. */
  readonly version: string | undefined;
}

/** A handler: runs once per event; throwing releases the claim so a retry runs it again. */
export type WebhookHandler<TPayload = unknown, TType extends string | undefined = string | undefined> = (
  event: VerifiedWebhook<TPayload> & { type: TType },
  context: HandlerContext,
) => unknown;

/** Receives the receiver's own failures (handler errors, store outages, lost leases). */
export type ErrorHandler = (error: WebhookError, event: VerifiedWebhook<unknown> | undefined) => void | Promise<void>;

/** Background mode: answer 202 once the event is queued, handle it later. */
export interface BackgroundOptions {
  /** The queue. @default inProcessQueue() — at-most-once if the process dies */
  queue?: WebhookQueue;
  /** Called with an event whose every attempt failed; its claim is released first. */
  onDeadLetter?: (event: VerifiedWebhook<unknown>, error: unknown) => void | Promise<void>;
}

/**
 * Payload versioning: events carry a version (Stripe's `api_version`, a header, a body
 * field); handlers either route on it or see every payload upgraded to one current shape.
 */
export interface VersioningOptions {
  /** Reads an event's payload version, e.g. `(e) => e.payload.api_version`. */
  version: (event: VerifiedWebhook<unknown>) => string | undefined;
  /**
   * The version handlers should see; older payloads go through `upgrade` to reach it.
   * @default none: each handler sees the payload in the version it came in
   */
  current?: string;
  /**
   * Upgraders by the version they upgrade from: each returns the payload in a newer
   * version. Chained until the payload is `current`.
   */
  upgrade?: Readonly<Record<string, (payload: unknown, event: VerifiedWebhook<unknown>) => {
    /** The version the returned payload is in. */
    version: string;
    /** The payload, upgraded. */
    payload: unknown;
  }>>;
  /**
   * An event whose version is missing, or (with `current`) cannot be upgraded to it:
   * `"reject"` answers 422 `unsupported_version` before any claim (the provider keeps
   * retrying until you deploy an upgrader); `"pass"` hands it to handlers as it is.
   * @default "reject"
   */
  unknown?: "reject" | "pass";
}

/**
 * The out-of-order guard: providers never promise delivery order, so an older event
 * about a resource can arrive after a newer one. The receiver keeps a watermark per
 * resource in the store and tells handlers (`context.stale`) when an event is older than
 * one already seen.
 */
export interface OrderingOptions {
  /** The resource an event is about, e.g. `(e) => e.payload.data.object.id`. */
  resource: (event: VerifiedWebhook<unknown>) => string | undefined;
  /** The event's position for that resource: a version or a time. @default the signed timestamp */
  position?: (event: VerifiedWebhook<unknown>) => number | Date | undefined;
  /** Acknowledge stale events without running handlers (answered 200 `{"status":"stale"}`). @default false */
  skipStale?: boolean;
  /** How long a resource's watermark is kept, in ms. @default the receiver's ttlMs */
  ttlMs?: number;
}

/** Options of {@link WebhookReceiver.on}. */
export interface HandlerOptions {
  /** Run only for events of this payload version (or one of these); needs `versioning`. */
  version?: string | readonly string[];
  /**
   * The handler's stable name for per-handler completion. Keep it stable across deploys.
   * @default `${type}#${n}`, its position among the handlers registered for the same type
   */
  name?: string;
}

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** The provider's scheme: `stripe({ secret })`, `github({ secret })`, … */
  scheme: WebhookScheme<unknown>;
  /** Where claims live. Share one Redis or PostgreSQL store across instances. @default memoryStore() */
  store?: IdempotencyStore;
  /** Prefix of every store key, so two providers' ids never collide. @default scheme.name */
  namespace?: string;
  /** The idempotency key of an event. @default event.id */
  idempotencyKey?: (event: VerifiedWebhook<unknown>) => string | undefined;
  /**
   * An event with no id: `"reject"` answers 400 `missing_event_id`; `"process"` runs the
   * handlers with no deduplication (a duplicate delivery runs them again). @default "reject"
   */
  missingId?: "reject" | "process";
  /**
   * How long a claim lasts while handlers run, in ms. A receiver that crashes mid-handler
   * blocks the event for at most this long. Keep it above your slowest handler; with the
   * in-process queue, above the whole retry schedule too. (With a durable queue the claim
   * is completed once the job is stored; per-handler claims still use this lease, so the
   * queue's retry schedule should outlast it.) @default 300000 (5 minutes)
   */
  leaseMs?: number;
  /**
   * How long a completed event is remembered, in ms. Longer than the providers' retry
   * horizons (Stripe retries for up to 3 days). @default 604800000 (7 days)
   */
  ttlMs?: number;
  /** The status for a verified event no handler listens to. @default 200 */
  unhandledStatus?: number;
  /** The clock used for timestamp checks, in epoch ms. @default Date.now */
  clock?: () => number;
  /** Overrides the scheme's timestamp tolerance, in seconds. @default the scheme's `toleranceSeconds` */
  toleranceSeconds?: number;
  /** Answer 202 and handle events from a queue. @default false (handle inside the request) */
  background?: boolean | BackgroundOptions;
  /** Where errors go when no `onError` handler is registered. @default console */
  logger?: {
    /** Receives one line per failure: what failed, the event id and the cause's message. */
    error(message: string): void;
  };
  /** Payload versioning: route on a version, or upgrade every payload to one. */
  versioning?: VersioningOptions;
  /** The out-of-order guard; needs a store with `advanceWatermark` (all built-in ones). */
  ordering?: OrderingOptions;
  /**
   * When several handlers run for one event, record each one's completion, so that after
   * a failure the redelivery reruns only the handlers that did not complete (two store
   * round trips per handler, only when more than one handler matches). @default true
   */
  trackHandlers?: boolean;
}

/** The dispatcher returned by {@link createWebhookReceiver}. */
export interface WebhookReceiver<M = Record<string, unknown>> {
  /** The scheme requests are verified with. */
  readonly scheme: WebhookScheme<unknown>;
  /**
   * Registers a handler for a type or several types. Handlers of one event run in order of
   * registration; returns the receiver, so calls chain.
   *
   * @example
   * ```ts
   * receiver
   *   .on("invoice.paid", async (event) => markPaid(event.payload))
   *   .on(["customer.created", "customer.updated"], async (event) => syncCustomer(event.payload));
   * ```
   */
  on<K extends EventType<M>>(type: K | readonly K[], handler: WebhookHandler<M[K], K>): this;
  /**
   * Registers a handler for every type under a prefix: `"invoice.*"` matches `invoice.paid`,
   * `invoice.payment_failed`, …
   */
  on<P extends string>(pattern: `${P}.*`, handler: WebhookHandler<PrefixPayload<M, P>, Extract<EventType<M>, `${P}.${string}`>>): this;
  /**
   * The same, with options: a payload `version` to route on, a stable `name`.
   *
   * @example
   * ```ts
   * receiver.on("invoice.paid", { name: "receipt" }, sendReceipt);
   * ```
   */
  on<K extends EventType<M>>(type: K | readonly K[], options: HandlerOptions, handler: WebhookHandler<M[K], K>): this;
  /** A prefix pattern (`"invoice.*"`) with options: a payload `version` to route on, a stable `name`. */
  on<P extends string>(pattern: `${P}.*`, options: HandlerOptions, handler: WebhookHandler<PrefixPayload<M, P>, Extract<EventType<M>, `${P}.${string}`>>): this;
  /** Registers a handler for every verified event. */
  onAny(handler: WebhookHandler<M[EventType<M>]>): this;
  /** Registers an error handler (handler failures, store outages, lost leases). */
  onError(handler: ErrorHandler): this;
  /**
   * Verifies, deduplicates and dispatches one request; resolves to the response to send.
   * Never rejects for a bad request or a failing handler: those are responses too.
   */
  receive(request: WebhookRequest): Promise<WebhookResponse>;
  /** Resolves when the background queue has no job left (no-op without background mode). */
  drain(): Promise<void>;
}

interface Registration {
  readonly match: (type: string | undefined) => boolean;
  readonly versions: ReadonlySet<string> | undefined;
  readonly name: string;
  readonly handler: WebhookHandler<unknown>;
}

/**
 * A claim's token, or the number memoryStore's synchronous twin gave the lease: the string
 * is built only where a number cannot go (an async store call, a queued job).
 */
type Lease = string | number;

/** Where the versioning step leaves an event. */
type Versioned = { readonly event: VerifiedWebhook<unknown>; readonly version: string | undefined } | undefined;

// Upgrader chains longer than this are a cycle in the upgrade table, not a real history.
const MAX_UPGRADES = 64;

function noop(): void {}

function msOption(value: number, option: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`hookguard: createWebhookReceiver({ ${option} }) must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

// Fixed bodies: the common answers cost no serialisation.
const PROCESSED = jsonResponse(200, { status: "processed" });
const DUPLICATE = jsonResponse(200, { status: "duplicate" });
const ACCEPTED = jsonResponse(202, { status: "accepted" });
// 409, not 200: the event is not done yet. The sender must keep it and retry; if the
// claimer crashed, the retry after the lease expires will process it.
const IN_PROGRESS = jsonResponse(409, { status: "in_progress", message: "This event is being handled by another delivery; retry later." }, { "retry-after": "5" });
const STORE_DOWN = errorResponse("store_unavailable", 503, "The idempotency store is unavailable; nothing was handled. Retry later.", { "retry-after": "5" });
const ENQUEUE_FAILED = errorResponse("enqueue_failed", 503, "The event could not be queued; nothing was handled. Retry later.", { "retry-after": "5" });
const HANDLER_FAILED = errorResponse("handler_failed", 500, "A handler failed; the event was not marked done. Retry later.");
const STALE = jsonResponse(200, { status: "stale", message: "A newer event about the same resource was already handled; this one was skipped." });
const UNSUPPORTED_VERSION = errorResponse("unsupported_version", 422, "This event's payload version is not supported by this receiver; deploy an upgrader and the provider's retry will be handled.");
const MISSING_ID = errorResponse("missing_event_id", 400, "The verified event has no id to deduplicate on; this receiver rejects such events (set missingId: \"process\" to accept them).");

/**
 * Creates the dispatcher: each verified event reaches the handlers registered for its
 * type once, even when the provider delivers it twice, concurrently, or retries it.
 *
 * | store says | receiver does | answer |
 * |---|---|---|
 * | claimed | runs handlers, then `complete` (or `release` if one threw) | 200 (or 500) |
 * | in progress | nothing | 409 |
 * | completed | nothing | 200 duplicate |
 * | unreachable | nothing | 503 |
 *
 * A request that fails verification gets its 4xx without touching the store.
 *
 * @example
 * ```ts
 * import { createWebhookReceiver, stripe } from "hookguard";
 * import type Stripe from "stripe";
 *
 * const receiver = createWebhookReceiver<Stripe.Event>({ scheme: stripe({ secret }) });
 * receiver.on("invoice.paid", async (event) => {
 *   await markPaid(event.payload.data.object.id);
 * });
 * const { status, headers, body } = await receiver.receive({ body: rawBody, headers: req.headers });
 * ```
 */
export function createWebhookReceiver<TEvents = Record<string, unknown>>(options: WebhookReceiverOptions): WebhookReceiver<EventMap<TEvents>> {
  const {
    scheme,
    store = memoryStore(),
    namespace = scheme?.name,
    idempotencyKey,
    missingId = "reject",
    unhandledStatus = 200,
    clock,
    toleranceSeconds,
    background = false,
    logger = console,
    versioning,
    ordering,
    trackHandlers = true,
  } = options ?? ({} as WebhookReceiverOptions);
  const leaseMs = msOption(options.leaseMs ?? 300_000, "leaseMs");
  const ttlMs = msOption(options.ttlMs ?? 7 * 24 * 60 * 60 * 1000, "ttlMs");
  if (!scheme || typeof scheme.verify !== "function") throw new TypeError("hookguard: createWebhookReceiver() needs `scheme`, e.g. stripe({ secret })");
  if (missingId !== "reject" && missingId !== "process") throw new TypeError('hookguard: createWebhookReceiver({ missingId }) must be "reject" or "process"');
  if (!Number.isInteger(unhandledStatus) || unhandledStatus < 200 || unhandledStatus > 599) throw new TypeError("hookguard: createWebhookReceiver({ unhandledStatus }) must be an HTTP status");
  if (versioning !== undefined && typeof versioning.version !== "function") throw new TypeError("hookguard: createWebhookReceiver({ versioning }) needs `version`: a function reading an event's payload version");
  if (versioning?.unknown !== undefined && versioning.unknown !== "reject" && versioning.unknown !== "pass") throw new TypeError('hookguard: createWebhookReceiver({ versioning: { unknown } }) must be "reject" or "pass"');
  if (ordering !== undefined) {
    if (typeof ordering.resource !== "function") throw new TypeError("hookguard: createWebhookReceiver({ ordering }) needs `resource`: a function naming the resource an event is about");
    if (typeof store.advanceWatermark !== "function") throw new TypeError("hookguard: createWebhookReceiver({ ordering }) needs a store with advanceWatermark (memoryStore, redisStore and postgresStore have it)");
  }
  const watermarkTtlMs = ordering?.ttlMs === undefined ? ttlMs : msOption(ordering.ttlMs, "ordering.ttlMs");
  const bg: BackgroundOptions | undefined = background === true ? {} : background === false ? undefined : background;
  const queue = bg ? (bg.queue ?? inProcessQueue()) : undefined;

  const registrations: Registration[] = [];
  const namesInUse = new Map<string, number>();
  const errorHandlers: ErrorHandler[] = [];
  const unhandled = jsonResponse(unhandledStatus, { status: "ignored", message: "No handler is registered for this event type." });
  // Allocated once, not per request: the hot path's options objects.
  const leaseOptions = { leaseMs };
  const ttlOptions = { ttlMs };
  // Without a `clock`, one reading of Date.now serves the timestamp check and memoryStore's
  // claim (which reads the same clock unless given its own): ~225 instructions a read.
  // Reused per request: verifyRequest reads it before anything else runs.
  const verifyOptions: { now: number | undefined; toleranceSeconds: number | undefined } = { now: undefined, toleranceSeconds };
  // memoryStore's synchronous claim and complete, while the store still has them.
  const twins = syncTwins(store);
  const tokenOf = (lease: Lease): string => (typeof lease === "string" ? lease : twins!.token(lease));
  // Every key is `${namespace}:${id}`: the prefix is built once, and memoryStore hashes a
  // key from its two parts rather than reading the joined string.
  const keyPrefix = `${namespace}:`;

  async function report(code: WebhookReceiverErrorCode, message: string, event: VerifiedWebhook<unknown> | undefined, cause?: unknown): Promise<void> {
    const status = code === "handler_failed" ? 500 : code === "missing_event_id" ? 400 : code === "unsupported_version" ? 422 : 503;
    const error = new WebhookError(code, message, { status, cause });
    if (errorHandlers.length === 0) {
      logger.error(`hookguard: ${message}${event?.id ? ` (event ${event.id})` : ""}${cause instanceof Error ? `: ${cause.message}` : ""}`);
      return;
    }
    for (const h of errorHandlers) {
      try {
        await h(error, event);
      } catch {
        // An error handler that fails must not turn a handled outcome into another one.
      }
    }
  }

  function matchHandlers(type: string | undefined, version: string | undefined): Registration[] {
    const out: Registration[] = [];
    for (const r of registrations) if (r.match(type) && (r.versions === undefined || (version !== undefined && r.versions.has(version)))) out.push(r);
    return out;
  }

  // The handlers of each event type, matched once (without versioning; registering clears
  // it). Bounded: a provider that sends ever new types must not grow it without end.
  const handlerCache = new Map<string | undefined, Registration[]>();
  const HANDLER_CACHE_MAX = 1024;
  // The type looked up last and its handlers: deliveries come in runs of one type, and
  // comparing the type with the last one costs less than hashing the fresh string JSON.parse
  // made for the Map (callgrind: ~360 instructions per event). `lastHandlers` undefined: none.
  let lastType: string | undefined;
  let lastHandlers: Registration[] | undefined;

  function handlersFor(type: string | undefined, version: string | undefined): Registration[] {
    if (versioning) return matchHandlers(type, version);
    if (lastHandlers !== undefined && type === lastType) return lastHandlers;
    let handlers = handlerCache.get(type);
    if (handlers === undefined) {
      handlers = matchHandlers(type, version);
      if (handlerCache.size >= HANDLER_CACHE_MAX) handlerCache.clear();
      handlerCache.set(type, handlers);
    }
    lastType = type;
    lastHandlers = handlers;
    return handlers;
  }

  /** After a registration: every type's handlers are matched again. */
  function forgetHandlers(): void {
    handlerCache.clear();
    lastHandlers = undefined;
  }

  /** Reads the version and upgrades the payload; `undefined` when the event must be rejected. */
  function applyVersioning(options: VersioningOptions, event: VerifiedWebhook<unknown>): Versioned {
    const { current, upgrade = {}, unknown = "reject" } = options;
    let version = options.version(event);
    let payload = event.payload;
    for (let steps = 0; version !== undefined && current !== undefined && version !== current; steps++) {
      const step = Object.hasOwn(upgrade, version) ? upgrade[version] : undefined;
      if (!step || steps >= MAX_UPGRADES) break;
      ({ version, payload } = step(payload, event));
    }
    const supported = version !== undefined && (current === undefined || version === current);
    if (!supported && unknown === "reject") return undefined;
    return { event: payload === event.payload ? event : { ...event, payload }, version };
  }

  /**
   * Runs the handlers in order. One synchronous handler costs no promise: the result is
   * `undefined` when everything already ran, else a promise of the rest.
   */
  function runHandlers(handlers: readonly Registration[], event: VerifiedWebhook<unknown>, context: HandlerContext): Promise<void> | undefined {
    if (handlers.length === 1) {
      const result = handlers[0]!.handler(event, context);
      return isThenable(result) ? Promise.resolve(result).then(noop) : undefined;
    }
    return runEach(handlers, event, context);
  }

  async function runEach(handlers: readonly Registration[], event: VerifiedWebhook<unknown>, context: HandlerContext): Promise<void> {
    // One handler: the event's own claim is enough. Several: each one's completion is
    // recorded under the event's claim, so a retry skips those that already succeeded.
    if (!trackHandlers || context.key === undefined) {
      for (const h of handlers) await h.handler(event, context);
      return;
    }
    for (const h of handlers) {
      const key = `${context.key}#handler:${h.name}`;
      const claim = await store.claim(key, leaseOptions);
      if (claim.status === "completed") continue;
      if (claim.status === "in_progress") throw new Error(`handler ${h.name} is still running from an earlier attempt`);
      try {
        await h.handler(event, context);
      } catch (e) {
        await store.release(key, claim.token).catch(() => false);
        throw e;
      }
      await store.complete(key, claim.token, ttlOptions);
    }
  }

  // When each claim handed to the in-process queue was made (monotonic ms): its job carries
  // only the key and token, and `finish` needs to know how long the lease lasts.
  const claimedAt = new Map<string, number>();

  /**
   * When a claim was made, monotonic ms. A claim from memoryStore's synchronous twin comes
   * with `NaN` — not read yet: its completion cannot fail the way a networked store's can,
   * so with a synchronous handler the time is never needed, and the clock read (~400
   * instructions, more than the rest of the completion) is skipped. It is read as soon as
   * something may need it — a handler still running, a queue, the out-of-order guard — and
   * otherwise only if completing failed after all (a store replaced mid-request), when the
   * lease then counts from that moment: later than it really started by the handler's
   * synchronous run, which only makes the retries last that much longer.
   */
  function claimTime(at: number): number {
    return at === at ? at : performance.now();
  }

  /**
   * Marks the event done. Until this claim's lease runs out (`at` is when it was made,
   * monotonic ms; see {@link claimTime}) nobody else can claim the event, so a store blip
   * is waited out: answering 2xx with the event unmarked would let its next duplicate,
   * after the lease, run the handlers again.
   *
   * `claimedNow`, given when the claim, the handlers and this completion run in one
   * synchronous stretch: the Date.now reading memoryStore's claim was made with, which its
   * completion then takes for its own (a clock read, ~40 ns, fewer per event). Nothing else in
   * the process ran in between, so the lease is still this delivery's; the key's `ttlMs`
   * counts from the claim, earlier than the completion by the handlers' synchronous run.
   */
  function finish(key: string, lease: Lease, event: VerifiedWebhook<unknown>, at: number, claimedNow?: number): Promise<void> | undefined {
    if (typeof lease === "number") {
      const sync = twins?.current();
      if (sync !== undefined) {
        try {
          if (sync.complete(key, lease, ttlMs, claimedNow)) return undefined;
        } catch {
          // Reported by the retrying path below, which meets the same failure.
        }
      }
    }
    return finishRetrying(key, tokenOf(lease), event, at);
  }

  async function finishRetrying(key: string, token: string, event: VerifiedWebhook<unknown>, at: number): Promise<void> {
    const deadline = claimTime(at) + leaseMs;
    // Set once an attempt failed: it may have committed before its answer was lost.
    let uncertain = false;
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      try {
        const done = await store.complete(key, token, ttlOptions);
        if (!done && !(uncertain && (await committedEarlier(key, event)))) {
          await report("lease_lost", `the handlers finished after the ${leaseMs} ms lease expired: another delivery may have run them too (raise leaseMs)`, event);
        }
        return;
      } catch (e) {
        uncertain = true;
        if (performance.now() + wait < deadline) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        // The work is done; answering 2xx stops the provider's retries. Only a duplicate
        // that arrives now that the lease is over could run it again.
        await report("store_unavailable", "the handlers succeeded but marking the event done failed for as long as the lease lasted", event, e);
        return;
      }
    }
  }

  /**
   * After a failed attempt to mark the event done, the next one found the lease gone: the
   * failed attempt may have committed before its answer was lost (a dropped connection).
   * A claim tells: "completed" means it did (true). A key that is free again is marked
   * done under a new claim — the handlers ran — but the lease did run out (false), as it
   * did when another delivery holds the key now.
   */
  async function committedEarlier(key: string, event: VerifiedWebhook<unknown>): Promise<boolean> {
    try {
      const claim = await store.claim(key, leaseOptions);
      if (claim.status === "completed") return true;
      if (claim.status === "claimed") await store.complete(key, claim.token, ttlOptions);
    } catch (e) {
      await report("store_unavailable", "marking the event done failed, and checking whether an earlier attempt had done so failed too", event, e);
    }
    return false;
  }

  async function abandon(key: string, token: string, event: VerifiedWebhook<unknown>): Promise<void> {
    try {
      await store.release(key, token);
    } catch (e) {
      await report("store_unavailable", "releasing the claim failed; the event can be retried once its lease expires", event, e);
    }
  }

  /** Advances the resource's watermark; true when the event is older than one already seen. */
  async function isStale(event: VerifiedWebhook<unknown>): Promise<boolean> {
    if (!ordering) return false;
    const resource = ordering.resource(event);
    const at = ordering.position ? ordering.position(event) : event.timestamp;
    const position = at instanceof Date ? at.getTime() : at;
    if (resource === undefined || position === undefined || !Number.isFinite(position)) return false;
    const { stale } = await store.advanceWatermark!(`${namespace}:${resource}`, position, { ttlMs: watermarkTtlMs });
    return stale;
  }

  const processJob: JobProcessor = async (job, attempt) => {
    const { event, key, token } = job;
    // A job from another receiver's claim (a shared queue) finishes against a lease of its own length.
    const at = token === undefined ? performance.now() : (claimedAt.get(token) ?? performance.now());
    const version = job.version;
    try {
      const handlers = handlersFor(event.type, version);
      // A worker of another build (a rolling deploy) may lack the handler this receiver
      // accepted the event for: fail the attempt so it is retried elsewhere or dead-lettered,
      // never completed unhandled.
      if (handlers.length === 0) throw new Error(`no handler for event type ${String(event.type)} is registered in this worker`);
      await runHandlers(handlers, event, { key, attempt: attempt.number, background: true, stale: job.stale ?? false, version });
    } catch (e) {
      await report("handler_failed", `a handler failed in the background (attempt ${attempt.number}${attempt.final ? ", the last" : ""})`, event, e);
      if (attempt.final) {
        if (token !== undefined) claimedAt.delete(token);
        if (key !== undefined && token !== undefined) await abandon(key, token, event);
        try {
          await bg?.onDeadLetter?.(event, e);
        } catch (deadLetterError) {
          await report("handler_failed", "the dead-letter callback failed", event, deadLetterError);
        }
      }
      throw e;
    }
    if (token !== undefined) claimedAt.delete(token);
    if (key !== undefined && token !== undefined) await finish(key, token, event, at);
  };
  queue?.process(processJob);

  /** `at`: when the claim was made (monotonic ms), or 0 without a claim. */
  async function dispatch(event: VerifiedWebhook<unknown>, version: string | undefined, handlers: Registration[], key: string | undefined, token: string | undefined, at: number): Promise<WebhookResponse> {
    let stale = false;
    if (ordering) {
      try {
        stale = await isStale(event);
      } catch (e) {
        await report("store_unavailable", "the out-of-order guard could not reach the store; answered 503 so the provider retries", event, e);
        if (key !== undefined && token !== undefined) await abandon(key, token, event);
        return STORE_DOWN;
      }
      if (stale && ordering.skipStale) {
        if (key !== undefined && token !== undefined) await finish(key, token, event, at);
        return STALE;
      }
    }
    if (queue) {
      // A durable queue owns the event once stored: its job carries no claim to finish.
      const jobToken = queue.durable ? undefined : token;
      if (jobToken !== undefined) claimedAt.set(jobToken, at);
      try {
        await queue.enqueue({ key, token: jobToken, event, version, stale });
      } catch (e) {
        if (jobToken !== undefined) claimedAt.delete(jobToken);
        await report("enqueue_failed", "handing the event to the background queue failed", event, e);
        if (key !== undefined && token !== undefined) await abandon(key, token, event);
        return ENQUEUE_FAILED;
      }
      if (queue.durable && key !== undefined && token !== undefined) await finish(key, token, event, at);
      return ACCEPTED;
    }
    return runAndFinish(event, version, handlers, key, token, at, stale, undefined);
  }

  /**
   * Runs the handlers in the request, then marks the event done (or releases it if a handler
   * failed). Synchronous as far as the handlers and the store allow. `claimedNow`: the
   * Date.now reading memoryStore's synchronous claim was made with, when it was made in this
   * same synchronous run (see {@link finish}).
   */
  function runAndFinish(
    event: VerifiedWebhook<unknown>,
    version: string | undefined,
    handlers: Registration[],
    key: string | undefined,
    token: Lease | undefined,
    at: number,
    stale: boolean,
    claimedNow: number | undefined,
  ): WebhookResponse | Promise<WebhookResponse> {
    let running: Promise<void> | undefined;
    try {
      running = runHandlers(handlers, event, { key, attempt: 1, background: false, stale, version });
    } catch (e) {
      return handlerFailed(e, event, key, token);
    }
    if (running !== undefined) {
      const since = claimTime(at);
      return running.then(
        () => processed(event, key, token, since),
        (e: unknown) => handlerFailed(e, event, key, token),
      );
    }
    // The handlers ran synchronously: nothing else ran since the claim, so its clock reading still serves.
    return processed(event, key, token, at, claimedNow);
  }

  function processed(event: VerifiedWebhook<unknown>, key: string | undefined, token: Lease | undefined, at: number, claimedNow?: number): WebhookResponse | Promise<WebhookResponse> {
    if (key === undefined || token === undefined) return PROCESSED;
    const finishing = finish(key, token, event, at, claimedNow);
    return finishing === undefined ? PROCESSED : finishing.then(() => PROCESSED);
  }

  async function handlerFailed(e: unknown, event: VerifiedWebhook<unknown>, key: string | undefined, token: Lease | undefined): Promise<WebhookResponse> {
    await report("handler_failed", "a handler failed; the claim was released so the provider's retry runs it again", event, e);
    if (key !== undefined && token !== undefined) await abandon(key, tokenOf(token), event);
    return HANDLER_FAILED;
  }

  function register(type: string | readonly string[], second: HandlerOptions | WebhookHandler<unknown>, third?: WebhookHandler<unknown>): void {
    const handlerOptions: HandlerOptions = typeof second === "function" ? {} : (second ?? {});
    const handler = typeof second === "function" ? second : third;
    if (typeof handler !== "function") throw new TypeError("hookguard: receiver.on(type, handler) needs a handler function");
    let match: Registration["match"];
    if (typeof type === "string" && type.endsWith(".*")) {
      const prefix = type.slice(0, -1);
      match = (t) => t !== undefined && t.startsWith(prefix);
    } else if (typeof type === "string") {
      match = (t) => t === type;
    } else if (Array.isArray(type) && type.every((t) => typeof t === "string")) {
      const set = new Set(type);
      match = (t) => t !== undefined && set.has(t);
    } else {
      throw new TypeError('hookguard: receiver.on(type, handler) needs a type, an array of types, or a "prefix.*" pattern');
    }
    const { version } = handlerOptions;
    if (version !== undefined && !versioning) throw new TypeError("hookguard: receiver.on(type, { version }, handler) needs the receiver's `versioning` option to read versions");
    const base = handlerOptions.name ?? (typeof type === "string" ? type : type.join(","));
    const n = namesInUse.get(base) ?? 0;
    namesInUse.set(base, n + 1);
    const name = handlerOptions.name !== undefined ? (n === 0 ? base : `${base}#${n}`) : `${base}#${n}`;
    registrations.push({ match, versions: version === undefined ? undefined : new Set(typeof version === "string" ? [version] : version), name, handler });
    forgetHandlers();
  }

  /**
   * `receive`'s work, answering with a value when nothing had to be awaited (node:crypto,
   * memoryStore's synchronous twins, a synchronous handler) and a promise otherwise. May
   * throw where `receive` rejects.
   */
  function receiveNow(request: WebhookRequest): WebhookResponse | Promise<WebhookResponse> {
    const t = clock ? undefined : Date.now();
    verifyOptions.now = t ?? clock!();
    const verifying = verifyRequest(request, scheme, verifyOptions);
    // node:crypto verifies synchronously: no await (a microtask) for a value already here.
    return isThenable(verifying) ? Promise.resolve(verifying).then((outcome) => verified(outcome, t)) : verified(verifying, t);
  }

  /** `t`: the Date.now reading verification used, for the claim; `undefined` with a `clock`. */
  function verified(outcome: VerifyOutcome<unknown>, t: number | undefined): WebhookResponse | Promise<WebhookResponse> {
    // Verification failed: answer from the value, never touching the store.
    if (!outcome.ok) return failureResponse(outcome, scheme.name);
    const handshake = scheme.handshake?.(outcome.webhook);
    if (handshake) return handshake;
    let event = outcome.webhook;
    let version: string | undefined;
    if (versioning) {
      const versioned = applyVersioning(versioning, event);
      if (!versioned) return UNSUPPORTED_VERSION;
      ({ event, version } = versioned);
    }
    const handlers = handlersFor(event.type, version);
    if (handlers.length === 0) return unhandled;
    const id = idempotencyKey ? idempotencyKey(event) : event.id;
    if (id === undefined || id === "") {
      if (missingId === "reject") return MISSING_ID;
      return handle(event, version, handlers, undefined, undefined, 0, undefined);
    }
    // As a template literal would write it (an idempotencyKey in plain JavaScript may return a number).
    const idText = typeof id === "string" ? id : `${id as unknown as string}`;
    const key = keyPrefix + idText;
    const sync = twins?.current();
    if (sync === undefined) return claimThen(event, version, handlers, key, performance.now());
    let lease: number;
    try {
      lease = sync.claim(keyPrefix, idText, key, leaseMs, t);
    } catch (e) {
      return storeDown(event, e);
    }
    if (lease === CLAIM_COMPLETED) return DUPLICATE;
    if (lease === CLAIM_IN_PROGRESS) return IN_PROGRESS;
    return handle(event, version, handlers, key, lease, Number.NaN, t);
  }

  async function claimThen(event: VerifiedWebhook<unknown>, version: string | undefined, handlers: Registration[], key: string, at: number): Promise<WebhookResponse> {
    let claim: ClaimResult;
    try {
      claim = await store.claim(key, leaseOptions);
    } catch (e) {
      return storeDown(event, e);
    }
    return claimed(claim, event, version, handlers, key, at);
  }

  async function storeDown(event: VerifiedWebhook<unknown>, e: unknown): Promise<WebhookResponse> {
    // Fail closed: never handle an event we could not claim.
    await report("store_unavailable", "claiming the event failed; answered 503 so the provider retries", event, e);
    return STORE_DOWN;
  }

  function claimed(claim: ClaimResult, event: VerifiedWebhook<unknown>, version: string | undefined, handlers: Registration[], key: string, at: number): WebhookResponse | Promise<WebhookResponse> {
    if (claim.status === "completed") return DUPLICATE;
    if (claim.status === "in_progress") return IN_PROGRESS;
    return handle(event, version, handlers, key, claim.token, at, undefined);
  }

  /**
   * Without ordering or a queue, handling needs no more awaiting than the handlers and the
   * store ask for: with memoryStore (or no key) and a synchronous handler, none at all.
   */
  function handle(
    event: VerifiedWebhook<unknown>,
    version: string | undefined,
    handlers: Registration[],
    key: string | undefined,
    token: Lease | undefined,
    at: number,
    claimedNow: number | undefined,
  ): WebhookResponse | Promise<WebhookResponse> {
    if (!ordering && !queue) return runAndFinish(event, version, handlers, key, token, at, false, claimedNow);
    return dispatch(event, version, handlers, key, token === undefined ? undefined : tokenOf(token), claimTime(at));
  }

  const receiver = {
    scheme,
    on(type: string | readonly string[], second: HandlerOptions | WebhookHandler<unknown>, third?: WebhookHandler<unknown>) {
      register(type, second, third);
      return this;
    },
    onAny(handler: WebhookHandler<unknown>) {
      if (typeof handler !== "function") throw new TypeError("hookguard: receiver.onAny(handler) needs a handler function");
      const n = namesInUse.get("*") ?? 0;
      namesInUse.set("*", n + 1);
      registrations.push({ match: () => true, versions: undefined, name: `*#${n}`, handler });
      forgetHandlers();
      return this;
    },
    onError(handler: ErrorHandler) {
      if (typeof handler !== "function") throw new TypeError("hookguard: receiver.onError(handler) needs a function");
      errorHandlers.push(handler);
      return this;
    },
    receive: withReceiveNow(
      (request: WebhookRequest): Promise<WebhookResponse> => {
        // As an async function would: a synchronous throw becomes a rejection.
        try {
          return Promise.resolve(receiveNow(request));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      receiveNow,
    ),
    drain() {
      return queue?.drain?.() ?? Promise.resolve();
    },
  };
  return receiver as unknown as WebhookReceiver<EventMap<TEvents>>;
}
