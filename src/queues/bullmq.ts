/**
 * A durable queue for the receiver's background mode, on BullMQ (Redis): the receiver
 * answers 202 only once the job is stored in Redis, and workers — in this process or in
 * any other, on any machine — run the handlers with BullMQ's retries and backoff.
 *
 * ```ts
 * import { bullmqQueue } from "hookguard/bullmq";
 * ```
 *
 * `bullmq` is an optional peer dependency: install it (and `ioredis`) yourself.
 *
 * @module hookguard/bullmq
 */
import { Queue, UnrecoverableError, Worker, type BackoffOptions, type ConnectionOptions, type Job, type JobsOptions, type WorkerOptions } from "bullmq";
import type { JobAttempt, JobProcessor, WebhookJob, WebhookQueue } from "../queue";
import { decodeJob, encodeJob, type JobData } from "./internal/job-data";
import { jobIdFor } from "./internal/job-id";

/**
 * Receives a job that failed for good without its handlers having thrown: BullMQ gave up
 * on it because workers died while running it more than `maxStalledCount` times.
 */
export type StalledOutHandler = (job: WebhookJob, error: Error) => void | Promise<void>;

/** Options of {@link bullmqQueue}. Pass `connection` or `queue`. */
export interface BullmqQueueOptions {
  /**
   * Where Redis is: ioredis options (`{ host, port, password, tls }`) or an ioredis
   * instance. An instance is used as it is to add jobs (so one that fails fast makes the
   * receiver answer 503 fast); the worker gets a duplicate with `maxRetriesPerRequest: null`,
   * as BullMQ requires of worker connections, and closes it on `close()`.
   */
  connection?: ConnectionOptions;
  /** An existing BullMQ `Queue` to add jobs to, instead of `connection`; you close it. */
  queue?: Queue;
  /** The BullMQ queue name; every receiver and worker of one endpoint uses the same. @default "hookguard-webhooks" */
  name?: string;
  /** BullMQ's Redis key prefix (with `connection`). @default "bull" */
  prefix?: string;
  /**
   * How many times the handlers may run and fail before the job is dead-lettered. The
   * provider's own multi-day retries end with the 202, so this schedule replaces them.
   * @default 10
   */
  attempts?: number;
  /**
   * The delay between attempts, in BullMQ's terms. The default waits about 2 s, 4 s, 8 s …
   * 512 s: some 17 minutes over 10 attempts, each wait shortened by up to half at random so
   * that many workers do not retry a failing downstream in step. Keep the whole schedule
   * above the receiver's `leaseMs` (5 minutes by default; the default schedule lasts at
   * least 8.5): after a worker crash, a handler's own claim blocks its rerun until the
   * lease expires, and attempts spent meanwhile must not exhaust the job.
   * @default { type: "exponential", delay: 2000, jitter: 0.5 }
   */
  backoff?: BackoffOptions;
  /**
   * Run a BullMQ worker in this process. `false` for receive-only instances: they store jobs
   * and other processes (with the default `true`) run them.
   * @default true
   */
  worker?: boolean;
  /** Jobs this process runs at once. @default 4 */
  concurrency?: number;
  /**
   * How long a key keeps refusing a second job, in ms, even after its job was removed
   * (a small Redis key per event: BullMQ deduplication with a TTL). Keep it at least the
   * receiver's `ttlMs`. `0` relies on the job id alone, which dedupes only while the job
   * is kept.
   * @default 604800000 (7 days, the receiver's default ttlMs)
   */
  dedupeTtlMs?: number;
  /**
   * How long `enqueue` may take, in ms. Past it the receiver answers 503 and the provider
   * retries; if the job was stored after all, the retry finds it by id and adds nothing.
   * @default 5000
   */
  enqueueTimeoutMs?: number;
  /** How long {@link BullmqWebhookQueue.drain} waits before it rejects, in ms. @default 30000 */
  drainTimeoutMs?: number;
  /**
   * More BullMQ job options. hookguard sets the job id, deduplication, attempts and backoff.
   * @default { removeOnComplete: { age: 3600 }, removeOnFail: { age: 2592000 } } (seconds: completed jobs are kept an hour, failed ones 30 days)
   */
  jobOptions?: Omit<JobsOptions, "jobId" | "deduplication" | "debounce" | "attempts" | "backoff" | "repeat" | "parent">;
  /**
   * More BullMQ worker options, e.g. `lockDuration` (30000) and `stalledInterval` (30000):
   * a job whose worker died is run again once its lock expired and a stalled-job check
   * ran, so within about `lockDuration + stalledInterval`; and `maxStalledCount` (1).
   */
  workerOptions?: Omit<WorkerOptions, "connection" | "concurrency" | "autorun" | "prefix">;
  /**
   * Called with a job BullMQ failed without running its handlers (its workers died more
   * than `maxStalledCount` times), which therefore never reached the receiver's
   * `onDeadLetter`. Without it such jobs are logged; they stay in the failed set.
   */
  onStalledOut?: StalledOutHandler;
  /** Where connection errors, unreadable jobs and jobs failed without running are reported. @default console */
  logger?: {
    /** Receives one line per problem, naming the queue and, where there is one, the job. */
    error(message: string): void;
  };
}

/** The queue {@link bullmqQueue} returns: a durable {@link WebhookQueue} with BullMQ inside. */
export interface BullmqWebhookQueue extends WebhookQueue {
  /** Always true: a stored job survives this process. */
  readonly durable: true;
  /** The BullMQ queue, for dashboards, metrics, and retrying dead-lettered jobs (`job.retry()`). */
  readonly queue: Queue;
  /** The BullMQ worker, once the receiver registered its processor (`undefined` with `worker: false`). */
  readonly worker: Worker | undefined;
  /**
   * Resolves when no job of the BullMQ queue is waiting, delayed or active — on any
   * machine. Rejects after `drainTimeoutMs`.
   */
  drain(): Promise<void>;
  /**
   * Stops taking jobs, waits for the running ones to finish, and closes what this queue
   * opened (not a `queue` or an ioredis instance you passed).
   */
  close(): Promise<void>;
}

const DEFAULT_JOB_OPTIONS: JobsOptions = { removeOnComplete: { age: 60 * 60 }, removeOnFail: { age: 30 * 24 * 60 * 60 } };

function intOption(value: number, option: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new TypeError(`hookguard/bullmq: bullmqQueue({ ${option} }) must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** The part of an ioredis client this file looks at. */
interface IoRedisLike {
  readonly options: { readonly maxRetriesPerRequest?: number | null };
  duplicate(override: { maxRetriesPerRequest: null }): IoRedisLike & { disconnect(): void };
  defineCommand(...args: unknown[]): unknown;
}

function isIoRedis(c: unknown): c is IoRedisLike {
  const r = c as Partial<IoRedisLike> | null;
  return typeof r === "object" && r !== null && typeof r.duplicate === "function" && typeof r.defineCommand === "function" && typeof r.options === "object";
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * A durable queue for `createWebhookReceiver({ background: { queue } })`, on BullMQ.
 *
 * - **Stored before 2xx.** `enqueue` resolves once Redis has the job; only then does the
 *   receiver mark the event done and answer 202. A receiver that dies after answering has
 *   nothing left to lose.
 * - **One job per event.** The job id is derived from the idempotency key, and a
 *   deduplication key outlives the job (`dedupeTtlMs`): a duplicate delivery, on any
 *   receiving instance, adds nothing.
 * - **Workers anywhere.** Every process whose queue has `worker: true` (the default) runs
 *   jobs with the receiver's handlers, retried with backoff; the receiver's `onDeadLetter`
 *   gets those whose every attempt failed. A worker that dies mid-job loses its lock and
 *   the job runs again elsewhere: handlers are **at least once** on a worker crash.
 *
 * Create the same receiver (scheme, store, handlers) in receiving and in worker processes;
 * register handlers right after creating it: the worker starts taking jobs on the next
 * turn of the event loop.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createWebhookReceiver, stripe } from "hookguard";
 * import { bullmqQueue } from "hookguard/bullmq";
 * import { redisStore } from "hookguard/redis";
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * // Receiving instances: ROLE=web (store jobs only); workers: ROLE=worker (never receive).
 * const queue = bullmqQueue({ connection: redis, worker: process.env.ROLE === "worker" });
 * const receiver = createWebhookReceiver({
 *   scheme: stripe({ secret }),
 *   store: redisStore({ client: redis }),
 *   background: { queue, onDeadLetter: (event, error) => alert(event.id, error) },
 * });
 * receiver.on("invoice.paid", markPaid);
 * process.on("SIGTERM", () => void queue.close());
 * ```
 */
export function bullmqQueue(options: BullmqQueueOptions): BullmqWebhookQueue {
  const {
    connection,
    queue: givenQueue,
    prefix,
    backoff = { type: "exponential", delay: 2000, jitter: 0.5 },
    worker: runWorker = true,
    jobOptions,
    workerOptions,
    onStalledOut,
    logger = console,
  } = options ?? ({} as BullmqQueueOptions);
  if (!connection && !givenQueue) throw new TypeError("hookguard/bullmq: bullmqQueue() needs `connection` (ioredis options or instance) or `queue` (a BullMQ Queue)");
  // By shape, not instanceof: an app may load BullMQ's CJS and ESM builds side by side.
  if (givenQueue && (typeof givenQueue.add !== "function" || typeof givenQueue.getJobCounts !== "function")) throw new TypeError("hookguard/bullmq: bullmqQueue({ queue }) must be a BullMQ Queue");
  const name = givenQueue ? givenQueue.name : (options.name ?? "hookguard-webhooks");
  if (typeof name !== "string" || name === "" || name.includes(":")) throw new TypeError(`hookguard/bullmq: bullmqQueue({ name }) must be a non-empty string without ":", got ${JSON.stringify(name)}`);
  const attempts = intOption(options.attempts ?? 10, "attempts", 1);
  const concurrency = intOption(options.concurrency ?? 4, "concurrency", 1);
  const dedupeTtlMs = intOption(options.dedupeTtlMs ?? 7 * 24 * 60 * 60 * 1000, "dedupeTtlMs", 0);
  const enqueueTimeoutMs = intOption(options.enqueueTimeoutMs ?? 5000, "enqueueTimeoutMs", 1);
  const drainTimeoutMs = intOption(options.drainTimeoutMs ?? 30_000, "drainTimeoutMs", 1);

  const queue = givenQueue ?? new Queue(name, { connection: connection!, ...(prefix === undefined ? {} : { prefix }) });
  // An EventEmitter's "error" without a listener ends the process: a Redis outage must not.
  const onQueueError = (e: Error): void => logger.error(`hookguard/bullmq: queue "${name}": ${e.message}`);
  queue.on("error", onQueueError);
  const addOptions: JobsOptions = { ...DEFAULT_JOB_OPTIONS, ...jobOptions, attempts, backoff };

  let processor: JobProcessor | undefined;
  let worker: Worker | undefined;
  let ownedConnection: { disconnect(): void } | undefined;
  let closed = false;
  // The Job objects this worker handed to the processor: a "failed" event for any other
  // job means BullMQ failed it without running it (stalled too often).
  const ran = new WeakSet<Job>();

  function attemptOf(job: Job, w: Worker): JobAttempt {
    const allowed = job.opts.attempts ?? 1;
    const maxStarted = w.opts.maxStartedAttempts;
    return {
      // attemptsStarted also counts runs cut short by a worker crash (attemptsMade does not).
      number: Math.max(job.attemptsStarted, job.attemptsMade + 1),
      // Mirrors BullMQ's own retry decision (Job#shouldRetryJob).
      final: job.attemptsMade + 1 >= allowed || (maxStarted !== undefined && maxStarted > 0 && job.attemptsStarted >= maxStarted),
    };
  }

  async function stalledOut(job: Job | undefined, error: Error): Promise<void> {
    if (!job || ran.has(job)) return;
    let decoded: WebhookJob | undefined;
    try {
      decoded = decodeJob(job.data);
    } catch {
      // Reported below with the job id.
    }
    if (decoded && onStalledOut) {
      try {
        await onStalledOut(decoded, error);
        return;
      } catch (e) {
        logger.error(`hookguard/bullmq: onStalledOut failed for job ${String(job.id)}: ${errorMessage(e)}`);
        return;
      }
    }
    logger.error(`hookguard/bullmq: job ${String(job.id)}${decoded?.event.id ? ` (event ${decoded.event.id})` : ""} failed without running its handlers: ${error.message}. It stays in the failed set of queue "${name}"; job.retry() runs it again.`);
  }

  function startWorker(p: JobProcessor): void {
    let workerConnection = connection ?? (queue.opts.connection as ConnectionOptions);
    if (isIoRedis(workerConnection) && workerConnection.options.maxRetriesPerRequest !== null) {
      // BullMQ refuses a worker connection that gives up on commands; a receiving
      // connection should give up (and answer 503). Each gets what it needs.
      ownedConnection = workerConnection.duplicate({ maxRetriesPerRequest: null });
      workerConnection = ownedConnection as unknown as ConnectionOptions;
    }
    const w = new Worker<JobData>(
      name,
      async (job) => {
        ran.add(job);
        let decoded: WebhookJob;
        try {
          decoded = decodeJob(job.data);
        } catch (e) {
          logger.error(`hookguard/bullmq: job ${String(job.id)} cannot be read and was failed: ${errorMessage(e)}`);
          throw new UnrecoverableError(errorMessage(e));
        }
        await p(decoded, attemptOf(job, w));
      },
      {
        ...workerOptions,
        connection: workerConnection,
        prefix: prefix ?? queue.opts.prefix,
        concurrency,
        // Started on the next turn of the event loop, once the caller registered handlers.
        autorun: false,
      },
    );
    w.on("error", (e: Error) => logger.error(`hookguard/bullmq: worker of "${name}": ${e.message}`));
    w.on("failed", (job, e) => void stalledOut(job, e));
    worker = w;
    setImmediate(() => {
      if (closed) return;
      w.run().catch((e: unknown) => logger.error(`hookguard/bullmq: worker of "${name}" stopped: ${errorMessage(e)}`));
    });
  }

  return {
    durable: true,
    queue,
    get worker() {
      return worker;
    },
    async enqueue(job) {
      if (closed) throw new Error(`hookguard/bullmq: the queue "${name}" is closed`);
      const data = encodeJob(job);
      const opts: JobsOptions = { ...addOptions };
      if (job.key !== undefined) {
        // No key (missingId: "process"): BullMQ numbers the job; custom ids are never numeric.
        opts.jobId = jobIdFor(job.key);
        if (dedupeTtlMs > 0) opts.deduplication = { id: opts.jobId, ttl: dedupeTtlMs };
      }
      const added = queue.add(job.event.type ?? "webhook", data, opts);
      await withTimeout(added, enqueueTimeoutMs, `hookguard/bullmq: Redis did not store the job within ${enqueueTimeoutMs} ms (enqueueTimeoutMs)`);
    },
    process(p) {
      if (processor) throw new TypeError("hookguard/bullmq: this queue already has a processor: give each receiver its own bullmqQueue()");
      if (typeof p !== "function") throw new TypeError("hookguard/bullmq: queue.process(processor) needs a function");
      processor = p;
      if (runWorker && !closed) startWorker(p);
    },
    async drain() {
      const deadline = Date.now() + drainTimeoutMs;
      for (;;) {
        const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
        const left = Object.entries(counts).filter(([, n]) => n > 0);
        if (left.length === 0) return;
        if (Date.now() >= deadline) {
          throw new Error(`hookguard/bullmq: the queue "${name}" still has ${left.map(([state, n]) => `${n} ${state}`).join(", ")} job(s) after ${drainTimeoutMs} ms (drainTimeoutMs)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await worker?.close();
      ownedConnection?.disconnect();
      if (!givenQueue) await queue.close();
    },
  };
}
