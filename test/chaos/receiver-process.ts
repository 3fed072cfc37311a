// One receiver process of a chaos run: a real node:http server mounting a receiver with
// `handleWebhooks`, whose idempotency store (Redis or PostgreSQL) is reached through the
// run's TCP proxy, so the run can cut it off. The handler's work lands in PostgreSQL,
// reached directly (it is the application's database, not the store):
//
//   attempts(event_id, n)       +1 at the start of every handler run, killed runs included
//   effects(event_id, done, …)  the side effect: ONE statement at the very end of the
//                               handler; `done` counts how many runs got that far
//
// so "exactly once" is counted by the database (done = 1), not by the code under test.
//
// Protocol with the parent (lines): stdout `PORT <n>` once listening; stdin `FREEZE` makes
// every handler that has not yet reached its side effect stop where it is (holding its
// lease), and once no handler is between its side effect and its answer, stdout `FROZEN
// <json ids>`: the parent then SIGKILLs this process mid-handler. stdin `STATS` → stdout
// `STATS <json>`.
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import pg from "pg";
import { createWebhookReceiver, stripe, type IdempotencyStore } from "../../src/index";
import { handleWebhooks } from "../../src/adapters/node";
import { postgresStore } from "../../src/stores/postgres";
import { redisStore } from "../../src/stores/redis";
import { postgresUrl } from "../helpers/services";

const env = process.env as Record<string, string | undefined>;
function required(name: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new Error(`receiver-process: ${name} is not set`);
  return v;
}

const BACKEND = required("CHAOS_BACKEND");
const STORE_PORT = Number(required("CHAOS_STORE_PORT"));
const STORE_NAME = required("CHAOS_STORE_NAME");
const EFFECTS = required("CHAOS_EFFECTS");
const ATTEMPTS = required("CHAOS_ATTEMPTS");
const SECRET = required("CHAOS_SECRET");
const LEASE_MS = Number(required("CHAOS_LEASE_MS"));
const MAX_BODY_BYTES = Number(required("CHAOS_MAX_BODY_BYTES"));
const [WORK_MIN, WORK_MAX] = (env.CHAOS_WORK_MS ?? "1,10").split(",").map(Number) as [number, number];
const POOL = Number(env.CHAOS_POOL ?? "6");
const RETRY_COMPLETE = env.CHAOS_RETRY_COMPLETE === "1";

// The application's database: direct, never through the proxy.
const app = new pg.Pool({ connectionString: postgresUrl, max: POOL });
app.on("error", () => {});

// Store clients configured to fail fast while the store is unreachable: a client that
// queues commands until the server returns would hold each request open for the whole
// outage (still safe, never acknowledged, but the provider would time out instead of
// getting a 503).
let redis: Redis | undefined;
let storePool: pg.Pool | undefined;
let store: IdempotencyStore;
if (BACKEND === "redis") {
  redis = new Redis({
    host: "127.0.0.1",
    port: STORE_PORT,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: 2000,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 50, 250),
  });
  redis.on("error", () => {});
  await new Promise<void>((resolve) => redis!.once("ready", () => resolve()));
  store = redisStore({ client: redis, prefix: STORE_NAME });
} else {
  const url = new URL(postgresUrl);
  url.hostname = "127.0.0.1";
  url.port = String(STORE_PORT);
  storePool = new pg.Pool({ connectionString: url.toString(), max: POOL, connectionTimeoutMillis: 1000, query_timeout: 2000 });
  storePool.on("error", () => {});
  store = postgresStore({ client: storePool, table: STORE_NAME });
}

if (RETRY_COMPLETE) {
  // The fix proposed to the lead (docs/reliability.md), applied from outside: retry a failed
  // `complete` while this claim's lease still holds, so a store outage shorter than the
  // lease never leaves a done event unmarked, for a later duplicate to run again.
  const inner = store;
  const claimedAt = new Map<string, number>();
  store = {
    async claim(key, o) {
      const at = performance.now();
      const result = await inner.claim(key, o);
      if (result.status === "claimed") claimedAt.set(result.token, at);
      return result;
    },
    release(key, token) {
      claimedAt.delete(token);
      return inner.release(key, token);
    },
    async complete(key, token, o) {
      const deadline = (claimedAt.get(token) ?? performance.now()) + LEASE_MS;
      claimedAt.delete(token);
      for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
        try {
          return await inner.complete(key, token, o);
        } catch (e) {
          if (performance.now() + wait >= deadline) throw e;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    },
  };
}

const stats = {
  pid: process.pid,
  statuses: {} as Record<string, number>,
  errors: {} as Record<string, number>,
  handlerRuns: 0,
  injectedFailures: 0,
  effects: 0,
  completeFailed: [] as string[],
};

let freezing = false;
const frozen = new Set<string>();
// Handlers past their last freeze check whose answer has not been written yet: the
// window between the side effect and `complete`, which a kill must not hit (see FREEZE).
let pastGate = 0;
const request = new AsyncLocalStorage<{ passed: boolean }>();
const never = new Promise<never>(() => {});

async function freezeHere(id: string | undefined): Promise<void> {
  if (!freezing) return;
  frozen.add(id ?? "?");
  await never;
}

const receiver = createWebhookReceiver({ scheme: stripe({ secret: SECRET }), store, leaseMs: LEASE_MS });
receiver.onError((error, event) => {
  stats.errors[error.code] = (stats.errors[error.code] ?? 0) + 1;
  // A store failure after this request's side effect: `complete` failed, the answer is 2xx.
  if (error.code === "store_unavailable" && request.getStore()?.passed === true && event?.id !== undefined) stats.completeFailed.push(event.id);
});
receiver.on("chaos.event", async (event) => {
  stats.handlerRuns++;
  const payload = event.payload as { data?: { failFirst?: boolean } };
  const { rows } = await app.query<{ n: number }>(
    `INSERT INTO ${ATTEMPTS} AS a (event_id, n) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET n = a.n + 1 RETURNING n`,
    [event.id],
  );
  const attempt = rows[0]!.n;
  await freezeHere(event.id);
  if (payload.data?.failFirst === true && attempt === 1) {
    stats.injectedFailures++;
    throw new Error("injected first-attempt failure");
  }
  // The handler's "work": long enough for concurrent copies to overlap with it.
  await new Promise((r) => setTimeout(r, WORK_MIN + Math.random() * (WORK_MAX - WORK_MIN)));
  await freezeHere(event.id);
  pastGate++;
  request.getStore()!.passed = true;
  // The side effect, one statement: a run killed before it leaves nothing behind.
  await app.query(
    `INSERT INTO ${EFFECTS} AS e (event_id, done, pids, attempt, first_at, last_at) VALUES ($1, 1, ARRAY[$2::int], $3, clock_timestamp(), clock_timestamp()) ` +
      `ON CONFLICT (event_id) DO UPDATE SET done = e.done + 1, pids = e.pids || $2::int, last_at = clock_timestamp()`,
    [event.id, process.pid, attempt],
  );
  stats.effects++;
});

const listener = handleWebhooks(receiver, { maxBodyBytes: MAX_BODY_BYTES });
const server = createServer((req, res) => {
  const state = { passed: false };
  void request.run(state, async () => {
    try {
      await listener(req, res);
    } finally {
      if (state.passed) pastGate--;
      stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
    }
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});

function write(line: string): void {
  process.stdout.write(line + "\n");
}

// Bounds of the wait before the kill: enough frozen handlers, or a short while after the first.
const FREEZE_ENOUGH = 8;
const FREEZE_GATHER_MS = 1000;
const FREEZE_WAIT_MS = 10_000;
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "STATS") write(`STATS ${JSON.stringify(stats)}`);
  if (line !== "FREEZE" || freezing) return;
  freezing = true;
  const started = Date.now();
  let firstFrozen: number | undefined;
  // Wait (bounded) for handlers caught mid-run and none past its side effect.
  const timer = setInterval(() => {
    const now = Date.now();
    if (frozen.size > 0) firstFrozen ??= now;
    const gathered = firstFrozen !== undefined && (frozen.size >= FREEZE_ENOUGH || now - firstFrozen >= FREEZE_GATHER_MS);
    if ((pastGate === 0 && gathered) || now - started > FREEZE_WAIT_MS) {
      clearInterval(timer);
      write(`FROZEN ${JSON.stringify({ ids: [...frozen], pastGate })}`);
    }
  }, 2);
});

// The parent went away (a crashed test run): do not outlive it.
process.stdin.on("end", () => process.exit(0));

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  redis?.disconnect();
  void Promise.allSettled([app.end(), storePool?.end()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
