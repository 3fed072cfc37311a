// What one event costs each store: claim + complete, the receiver's happy path, each
// event a fresh key.
//
//   npx tsx bench/stores.ts            (or import { benchStores } from another bench)
//
// Per store: µs per event one at a time (the median of samples taken round-robin across
// the stores by bench/harness.ts, so load from other processes on this shared machine
// lands on every store alike), events per second with many in flight, and round trips
// per event, counted by wrapping the client's `eval`/`evalsha`/`evalSha`/`query` (each call
// is one round trip to the server).
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { createClient } from "redis";
import type { IdempotencyStore } from "../src/store";
import { memoryStore } from "../src/stores/memory";
import { postgresStore } from "../src/stores/postgres";
import { redisStore } from "../src/stores/redis";
import { measure, type HarnessOptions, type Task } from "./harness";

export interface StoreBenchOptions {
  /** Samples, sample length and warm-up of the sequential measurement. @default bench/harness.ts defaults */
  readonly harness?: HarnessOptions;
  /** Events in flight for the throughput run. @default 32 */
  readonly concurrency?: number;
  /** Length of the throughput run, per store, in milliseconds. @default 2_000 */
  readonly throughputMs?: number;
  /** @default process.env.REDIS_URL ?? "redis://127.0.0.1:6379" */
  readonly redisUrl?: string;
  /** @default process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test" */
  readonly postgresUrl?: string;
}

export interface StoreBenchResult {
  readonly store: string;
  /** Set when the store's server was unreachable: the numbers are then NaN. */
  readonly skipped?: string;
  /** Median claim + complete time, one event at a time, in microseconds. */
  readonly usPerEvent: number;
  /** Sequential events per second (1e6 / usPerEvent). */
  readonly opsPerSecond: number;
  /** (max − min) / median of the samples, in percent: how noisy the measurement was. */
  readonly spreadPercent: number;
  /** Events per second with `concurrency` in flight. */
  readonly concurrentOpsPerSecond: number;
  /** Calls into the client per event (each one round trip); 0 for memory. */
  readonly roundTripsPerEvent: number;
}

/** Wraps the named methods of a client to count calls, keeping `this` the real client. */
function counted<T extends object>(client: T, methods: readonly string[]): { client: T; count: () => number } {
  let calls = 0;
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && methods.includes(prop)) {
        return (...args: unknown[]) => {
          calls++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { client: proxy, count: () => calls };
}

interface Subject {
  readonly name: string;
  readonly event: () => Promise<void>;
  readonly count: () => number;
  failures: number;
}

function subject(name: string, store: IdempotencyStore, count: () => number): Subject {
  const run = randomBytes(4).toString("hex");
  let n = 0;
  const s: Subject = {
    name,
    count,
    failures: 0,
    async event() {
      const key = `bench:${run}:${n++}`;
      const r = await store.claim(key, { leaseMs: 30_000 });
      // The harness swallows errors to keep its loop tight: count them and fail afterwards.
      if (r.status !== "claimed" || !(await store.complete(key, r.token, { ttlMs: 60_000 }))) s.failures++;
    },
  };
  return s;
}

async function throughput(s: Subject, concurrency: number, ms: number): Promise<number> {
  let done = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await s.event();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function roundTrips(s: Subject): Promise<number> {
  const events = 200;
  const before = s.count();
  for (let i = 0; i < events; i++) await s.event();
  return (s.count() - before) / events;
}

function skipped(store: string, reason: string): StoreBenchResult {
  return { store, skipped: reason, usPerEvent: NaN, opsPerSecond: NaN, spreadPercent: NaN, concurrentOpsPerSecond: NaN, roundTripsPerEvent: NaN };
}

const why = (e: unknown) => (e instanceof Error ? e.message || e.name : String(e));

/** Measures claim + complete per event on memory, Redis (ioredis, node-redis) and PostgreSQL (pg Pool). */
export async function benchStores(options: StoreBenchOptions = {}): Promise<StoreBenchResult[]> {
  const {
    harness,
    concurrency = 32,
    throughputMs = 2_000,
    redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    postgresUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  } = options;
  const run = randomBytes(4).toString("hex");
  const prefix = `hookguard-bench:${run}:`;
  const table = `hookguard_bench_${run}`;
  const subjects: Subject[] = [subject("memory", memoryStore(), () => 0)];
  const missing: StoreBenchResult[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const io = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  io.on("error", () => {});
  try {
    await io.connect();
    const c = counted(io, ["eval", "evalsha"]);
    subjects.push(subject("redis (ioredis)", redisStore({ client: c.client, prefix }), c.count));
    const nr = await createClient({ url: redisUrl }).connect();
    cleanups.push(() => nr.close());
    const c2 = counted(nr, ["eval", "evalSha"]);
    subjects.push(subject("redis (node-redis)", redisStore({ client: c2.client, prefix }), c2.count));
    cleanups.push(async () => {
      let cursor = "0";
      do {
        const [next, keys] = await io.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 5000);
        if (keys.length) await io.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      io.disconnect();
    });
  } catch (e) {
    io.disconnect();
    missing.push(skipped("redis", why(e)));
  }

  const pool = new pg.Pool({ connectionString: postgresUrl, max: concurrency });
  pool.on("error", () => {});
  try {
    await postgresStore({ client: pool, table }).createTable();
    const c = counted(pool, ["query"]);
    subjects.push(subject("postgres (pg Pool)", postgresStore({ client: c.client, table }), c.count));
    cleanups.push(async () => {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    });
  } catch (e) {
    await pool.end();
    missing.push(skipped("postgres", why(e)));
  }

  try {
    const tasks: Task[] = subjects.map((s) => ({
      name: s.name,
      kind: "async",
      run: s.event,
      async check() {
        await s.event();
        if (s.failures) throw new Error(`${s.name}: claim + complete failed`);
      },
    }));
    const sequential = await measure(tasks, harness);
    const results: StoreBenchResult[] = [];
    for (const [i, s] of subjects.entries()) {
      const m = sequential[i]!;
      results.push({
        store: s.name,
        usPerEvent: m.nsPerOp / 1000,
        opsPerSecond: m.opsPerSecond,
        spreadPercent: m.spreadPercent,
        concurrentOpsPerSecond: await throughput(s, concurrency, throughputMs),
        roundTripsPerEvent: await roundTrips(s),
      });
      if (s.failures) throw new Error(`${s.name}: ${s.failures} events failed to claim or complete during the run`);
    }
    return [...results, ...missing];
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

/** A plain-text table of results. */
export function formatStoreBench(results: readonly StoreBenchResult[], concurrency = 32): string {
  const rows = results.map((r) =>
    r.skipped
      ? [r.store, `skipped: ${r.skipped}`, "", "", "", ""]
      : [
          r.store,
          r.usPerEvent.toFixed(1),
          `±${(r.spreadPercent / 2).toFixed(0)}%`,
          Math.round(r.opsPerSecond).toLocaleString("en-US"),
          Math.round(r.concurrentOpsPerSecond).toLocaleString("en-US"),
          r.roundTripsPerEvent.toFixed(2),
        ],
  );
  const head = ["store", "µs/event", "spread", "events/s (1 in flight)", `events/s (${concurrency} in flight)`, "round trips/event"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const before = loadavg()[0]!;
  const results = await benchStores();
  console.log("claim + complete per event, each event a fresh key\n");
  console.log(formatStoreBench(results));
  console.log(`\nLoad average (1 min) before/after: ${before.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} — the machine is shared.`);
}
