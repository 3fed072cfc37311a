// The provider side of a chaos run: signs each event, delivers every copy over real HTTP on
// loopback, and retries anything but a 2xx with exponential backoff and jitter, as Stripe
// does (compressed from its 3-day schedule to seconds). Every loop is bounded: a number of
// attempts per delivery, a timeout per request, a deadline for the whole run.
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { signWebhook, type WebhookScheme } from "../../src/index";

/** Retry schedule of one delivery. */
export interface Backoff {
  /** The wait after the first failure, in ms; doubled after each further one. */
  readonly baseMs: number;
  /** The longest wait between two attempts, in ms. */
  readonly capMs: number;
  /** Attempts per delivery before the provider gives up on it. */
  readonly maxAttempts: number;
}

/** "Full jitter" around the doubling schedule, so retries of a burst do not arrive in lockstep. */
export function backoffMs(failures: number, b: Backoff): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.min(failures - 1, 20));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** A counting semaphore: at most `n` requests in flight, FIFO. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** What one HTTP attempt came to: a status, or why there was none. */
export type Answer = { readonly status: number; readonly body: string } | { readonly status: "network" | "timeout"; readonly body: string };

/** POSTs one signed body; never rejects. */
export function post(agent: Agent, port: number, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Answer): void => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/webhooks", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", (e) => done({ status: "network", body: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      done({ status: "timeout", body: "" });
      req.destroy();
    });
    req.on("error", (e) => done({ status: "network", body: e.message }));
    req.end(body);
  });
}

/** One copy of one event, as the provider keeps it until acknowledged. */
export interface Delivery {
  readonly event: number;
  readonly body: string;
}

/** The outcome of one delivery: acknowledged (when, by which status) or given up. */
export interface DeliveryResult {
  readonly event: number;
  readonly attempts: number;
  /** Epoch ms at which the 2xx arrived; undefined if never acknowledged. */
  readonly ackedAt: number | undefined;
}

/** What the driver records across all attempts. */
export interface DriverLog {
  /** Latency of every attempt that got an HTTP answer, in ms. */
  readonly latencies: number[];
  /** Count per status ("network", "timeout" for no answer). */
  readonly statuses: Record<string, number>;
  /** Every attempt's status with the time it came back, for the fault windows. */
  readonly timeline: { at: number; status: number | string }[];
}

export interface DriverOptions {
  readonly scheme: WebhookScheme<unknown>;
  /** The receivers' ports; read on every attempt, so a killed receiver can be taken out. */
  readonly ports: () => readonly number[];
  readonly concurrency: number;
  readonly backoff: Backoff;
  readonly requestTimeoutMs: number;
  /** Epoch ms after which no new attempt starts. */
  readonly deadline: number;
  /** Called after each acknowledged delivery (to trigger faults at a given progress). */
  readonly onAck?: () => void;
}

/**
 * Delivers every copy, each one until a 2xx (re-signed per attempt: the provider signs each
 * send with the current time), in the order given, at most `concurrency` requests at once.
 */
export async function deliverAll(deliveries: readonly Delivery[], o: DriverOptions): Promise<{ results: DeliveryResult[]; log: DriverLog }> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const gate = new Semaphore(o.concurrency);
  const log: DriverLog = { latencies: [], statuses: {}, timeline: [] };

  async function deliver(d: Delivery): Promise<DeliveryResult> {
    for (let attempt = 1; attempt <= o.backoff.maxAttempts; attempt++) {
      if (Date.now() > o.deadline) return { event: d.event, attempts: attempt - 1, ackedAt: undefined };
      await gate.acquire();
      let answer: Answer;
      try {
        const live = o.ports();
        const port = live[Math.floor(Math.random() * live.length)]!;
        const headers = await signWebhook(d.body, o.scheme);
        const started = performance.now();
        answer = await post(agent, port, d.body, headers, o.requestTimeoutMs);
        if (typeof answer.status === "number") log.latencies.push(performance.now() - started);
      } finally {
        gate.release();
      }
      const at = Date.now();
      log.statuses[answer.status] = (log.statuses[answer.status] ?? 0) + 1;
      log.timeline.push({ at, status: answer.status });
      if (typeof answer.status === "number" && answer.status >= 200 && answer.status < 300) {
        o.onAck?.();
        return { event: d.event, attempts: attempt, ackedAt: at };
      }
      await sleep(backoffMs(attempt, o.backoff));
    }
    return { event: d.event, attempts: o.backoff.maxAttempts, ackedAt: undefined };
  }

  try {
    const results = await Promise.all(deliveries.map(deliver));
    return { results, log };
  } finally {
    agent.destroy();
  }
}

/** The p-th percentile (0–100) of a list of numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
