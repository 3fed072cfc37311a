/**
 * The background queue contract and the embedded in-process queue.
 *
 * In background mode the receiver answers `202` as soon as a claimed event is handed to
 * the queue; the queue runs the handlers later, with a concurrency limit and retries.
 *
 * @module
 */
import type { VerifiedWebhook } from "./types";

/** One claimed event waiting to be handled. */
export interface WebhookJob {
  /** The namespaced idempotency key, or `undefined` for an event processed without dedupe. */
  readonly key: string | undefined;
  /** The fencing token of the claim, if the event was claimed. */
  readonly token: string | undefined;
  /** The verified event (its payload already upgraded to the current version, if versioned). */
  readonly event: VerifiedWebhook<unknown>;
  /** The payload version handlers see, if the receiver is versioned. */
  readonly version?: string | undefined;
  /** Whether the out-of-order guard found the event older than one already seen. */
  readonly stale?: boolean;
}

/** Which attempt of a job is running. */
export interface JobAttempt {
  /** 1 for the first attempt. */
  readonly number: number;
  /** True when no retry follows if this attempt fails. */
  readonly final: boolean;
}

/** Runs one attempt of a job; rejects if the attempt failed. */
export type JobProcessor = (job: WebhookJob, attempt: JobAttempt) => Promise<void>;

/**
 * Where background jobs wait. Small on purpose: an in-process queue is built in, and a
 * durable one (e.g. on Redis) only has to implement these.
 */
export interface WebhookQueue {
  /**
   * True when an accepted job survives this process (it is stored, e.g. in Redis, and the
   * queue itself refuses a second job for the same key). The receiver then marks the event
   * completed in the idempotency store as soon as `enqueue` resolves — the queue owns it
   * from there — instead of after the handlers ran. @default false
   */
  readonly durable?: boolean;
  /** Accepts a job. Resolves once it is handed over (for a durable queue: stored). */
  enqueue(job: WebhookJob): Promise<void>;
  /** Registers the function that runs one attempt of a job. Called once by the receiver. */
  process(processor: JobProcessor): void;
  /** Resolves when every accepted job has finished (succeeded or exhausted its retries). */
  drain?(): Promise<void>;
}

/** Options of {@link inProcessQueue}. */
export interface InProcessQueueOptions {
  /** How many jobs run at once. @default 4 */
  concurrency?: number;
  /** Attempts after the first one fails. @default 3 */
  retries?: number;
  /** Delay before the first retry, in ms; doubles each time. @default 1000 */
  initialDelayMs?: number;
  /** The longest delay between attempts, in ms. @default 60000 */
  maxDelayMs?: number;
  /** Random source in [0, 1) for jitter, for tests. @default Math.random */
  random?: () => number;
}

function positiveInt(value: number, option: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new TypeError(`hookguard: inProcessQueue({ ${option} }) must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/**
 * The embedded queue: jobs run in this process, `concurrency` at a time, retried with
 * exponential backoff and full jitter.
 *
 * **At-most-once on a crash**: a job lives only in memory. If the process dies after the
 * receiver answered 202 and before the job completed, the provider will not resend it and
 * it is lost (its claim's lease expires, so a manual redelivery still works). Use a
 * durable queue where that matters.
 *
 * @example
 * ```ts
 * import { createWebhookReceiver, inProcessQueue, stripe } from "hookguard";
 * const receiver = createWebhookReceiver({
 *   scheme: stripe({ secret }),
 *   background: { queue: inProcessQueue({ concurrency: 8, retries: 5 }) },
 * });
 * ```
 */
export function inProcessQueue(options: InProcessQueueOptions = {}): WebhookQueue {
  const { concurrency = 4, retries = 3, initialDelayMs = 1000, maxDelayMs = 60_000, random = Math.random } = options;
  positiveInt(concurrency, "concurrency", 1);
  positiveInt(retries, "retries", 0);
  if (!(initialDelayMs >= 0) || !(maxDelayMs >= initialDelayMs)) throw new TypeError("hookguard: inProcessQueue() needs 0 <= initialDelayMs <= maxDelayMs");

  let processor: JobProcessor | undefined;
  const waiting: { job: WebhookJob; attempt: number }[] = [];
  let running = 0;
  let pending = 0; // accepted and not yet finished, including those sleeping before a retry
  let idle: (() => void)[] = [];

  function settle(): void {
    pending--;
    if (pending === 0) {
      const resolve = idle;
      idle = [];
      for (const r of resolve) r();
    }
  }

  function pump(): void {
    while (processor && running < concurrency && waiting.length > 0) {
      const { job, attempt } = waiting.shift()!;
      running++;
      const final = attempt > retries;
      processor(job, { number: attempt, final }).then(
        () => {
          running--;
          settle();
          pump();
        },
        () => {
          running--;
          if (final) settle();
          else {
            // Full jitter: spreads retries of a failing downstream instead of synchronising them.
            const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
            setTimeout(() => {
              waiting.push({ job, attempt: attempt + 1 });
              pump();
            }, Math.floor(random() * ceiling));
          }
          pump();
        },
      );
    }
  }

  return {
    async enqueue(job) {
      pending++;
      waiting.push({ job, attempt: 1 });
      queueMicrotask(pump);
    },
    process(p) {
      if (processor) throw new TypeError("hookguard: this queue already has a processor: give each receiver its own queue");
      processor = p;
      pump();
    },
    drain() {
      if (pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
