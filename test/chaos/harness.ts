// A chaos run: several receiver processes share one idempotency store (Redis or PostgreSQL,
// reached through a TCP proxy the run can cut), a provider delivers every event several
// times while faults are injected, and the databases are then asked what really happened.
// Used by the CI-sized test (test/chaos/chaos.test.ts) and by `npm run chaos` (full size).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { stripe } from "../../src/index";
import { postgresStore } from "../../src/stores/postgres";
import { postgresUrl, redisUrl } from "../helpers/services";
import { deliverAll, percentile, type Backoff, type Delivery, type DeliveryResult, type DriverLog } from "./driver";
import { emptyForgedLog, forgeFlood, FORGED_KINDS, type ForgedLog } from "./forged";
import { startTcpProxy, type TcpProxy } from "./proxy";

const CHILD = fileURLToPath(new URL("./receiver-process.ts", import.meta.url));
const SECRET = "whsec_chaos_run";
/** The receivers' timestamp tolerance (the library's default). */
const TOLERANCE_SECONDS = 300;

export type Backend = "redis" | "postgres";

export interface ChaosConfig {
  readonly backend: Backend;
  /** Distinct events. */
  readonly events: number;
  /** Deliveries of each event. */
  readonly copies: number;
  /** Share of events delivered as a burst (all copies back to back, so they overlap); the others' copies are scattered. */
  readonly burstRatio: number;
  /** Provider requests in flight at once. */
  readonly concurrency: number;
  /** Receiver processes (one is killed: keep at least 3 so 2+ survive). */
  readonly processes: number;
  /** Share of events whose handler throws on its first attempt. */
  readonly failFirstRatio: number;
  /** The receivers' lease: how soon a killed handler's event can be claimed again. */
  readonly leaseMs: number;
  /** The handler's simulated work, in ms: [min, max]. */
  readonly workMs: readonly [number, number];
  /** Kill a receiver mid-handler (SIGKILL) once this share of deliveries is acknowledged; 0 = never. */
  readonly killAt: number;
  /** Cut the store off once this share of deliveries is acknowledged; 0 = never. */
  readonly outageAt: number;
  /** How long the store stays unreachable. */
  readonly outageMs: number;
  /** Forged requests: half at the start, half when the store goes down. */
  readonly forged: number;
  readonly forgedConcurrency: number;
  readonly maxBodyBytes: number;
  readonly backoff: Backoff;
  readonly requestTimeoutMs: number;
  /** The whole run's time budget: no attempt starts after it. */
  readonly deadlineMs: number;
  /** Connections per pool in each receiver (one pool to the app database, one to a PostgreSQL store). */
  readonly poolSize: number;
  /** Wrap the store so a failed `complete` is retried within the lease (the fix proposed in docs/reliability.md). */
  readonly retryComplete?: boolean;
  readonly log?: (line: string) => void;
}

/** The CI-sized run inside `npm test`: a few hundred events, every fault, well under a minute per backend. */
export const CI_SIZE: Omit<ChaosConfig, "backend"> = {
  events: 300,
  copies: 3,
  burstRatio: 0.3,
  concurrency: 30,
  processes: 3,
  failFirstRatio: 0.2,
  // Long enough that a handler slowed down by a loaded 2-core machine, plus the outage
  // below, still fits in it; short enough that a killed handler's event is retried soon.
  leaseMs: 5000,
  workMs: [2, 12],
  killAt: 0.15,
  outageAt: 0.45,
  // Well inside the lease: an outage that outlasts a claim's lease can leave a finished
  // event unmarked for its next duplicate to run again, whatever the receiver does
  // (docs/reliability.md, "On a store outage").
  outageMs: 2000,
  forged: 480,
  forgedConcurrency: 6,
  maxBodyBytes: 64 * 1024,
  backoff: { baseMs: 50, capMs: 1000, maxAttempts: 40 },
  requestTimeoutMs: 10_000,
  deadlineMs: 60_000,
  poolSize: 5,
};

/** `npm run chaos`: the issue's full size. */
export const FULL_SIZE: Omit<ChaosConfig, "backend"> = {
  ...CI_SIZE,
  events: 10_000,
  concurrency: 50,
  forged: 12_000,
  forgedConcurrency: 16,
  backoff: { baseMs: 100, capMs: 2000, maxAttempts: 40 },
  deadlineMs: 20 * 60_000,
  poolSize: 6,
};

export interface ChaosReport {
  readonly backend: Backend;
  readonly runId: string;
  readonly config: Omit<ChaosConfig, "log">;
  readonly wallMs: number;
  readonly deliveries: { readonly total: number; readonly acknowledged: number; readonly attempts: number; readonly statuses: Record<string, number> };
  readonly events: {
    readonly total: number;
    /** Every copy acknowledged by a 2xx. */
    readonly delivered: number;
    readonly sideEffects: number;
    readonly exactlyOnce: number;
    readonly lost: number;
    readonly processedTwice: number;
    /** Side-effect rows for ids the provider never sent (forged or otherwise). */
    readonly unexpectedSideEffects: number;
    /** Events whose first 2xx arrived before their side effect was committed. */
    readonly acknowledgedBeforeProcessed: number;
    /** Handler runs, from the attempts table (failed and killed runs included). */
    readonly handlerRuns: number;
  };
  /** The events processed more than once, with when (ms into the run) and where each run's side effect landed. */
  readonly processedTwiceDetail: readonly {
    readonly id: string;
    readonly runs: number;
    readonly pids: readonly number[];
    readonly firstMs: number;
    readonly lastMs: number;
    /** The first run's `complete` failed (store unreachable) and the receiver answered 2xx anyway. */
    readonly afterFailedComplete: boolean;
  }[];
  /** When the faults struck, in ms into the run. */
  readonly timeline: { readonly killMs: number | undefined; readonly outageMs: readonly [number, number] | undefined };
  readonly store: { readonly completed: number; readonly leased: number; readonly forgedKeys: number; readonly otherKeys: number };
  readonly faults: {
    /** `recovered`: events run again after the failure and processed (how many times: see `events`). */
    readonly firstAttemptFailures: { readonly events: number; readonly answered500: number; readonly recovered: number };
    readonly kill: { readonly pid: number; readonly killedMidHandler: number; readonly recovered: number; readonly inSideEffectWindow: number } | undefined;
    readonly outage: { readonly ms: number; readonly answered503: number; readonly answered2xx: number; readonly noAnswer: number; readonly proxyResets: number } | undefined;
    readonly forged: {
      readonly sent: number;
      readonly byKind: ForgedLog;
      readonly answered2xx: number;
      readonly answeredOther: number;
      readonly handlerRuns: number;
      readonly storeKeys: number;
      readonly sideEffects: number;
    };
  };
  /** What the surviving receivers reported to `onError`, by code. */
  readonly receiverErrors: Record<string, number>;
  /** Receiver processes that died without being killed by the run. */
  readonly crashes: readonly string[];
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly throughput: { readonly deliveriesPerSecond: number; readonly requestsPerSecond: number };
  /** Every figure that is off; empty when the run proves what it should. */
  readonly failures: readonly string[];
}

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  /** False once the run kills or stops it on purpose; an exit while true is a crash. */
  alive: boolean;
  /** How it died, when it was not on purpose. */
  crashed?: string;
  readonly waiters: { prefix: string; resolve: (line: string) => void }[];
  readonly stderr: string[];
}

async function spawnReceiver(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  const stderr: string[] = [];
  const waiters: Child["waiters"] = [];
  createInterface({ input: proc.stderr! }).on("line", (l) => {
    stderr.push(l);
    if (stderr.length > 40) stderr.shift();
  });
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    for (const w of [...waiters]) {
      if (line.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line.slice(w.prefix.length).trim());
      }
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a receiver process did not start within 30 s: ${stderr.join("\n")}`)), 30_000);
    waiters.push({
      prefix: "PORT ",
      resolve: (p) => {
        clearTimeout(timer);
        resolve(Number(p));
      },
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`a receiver process exited before listening (${code}): ${stderr.join("\n")}`));
    });
  });
  const child: Child = { proc, port, alive: true, waiters, stderr };
  proc.once("exit", (code, signal) => {
    if (child.alive) child.crashed = `receiver ${proc.pid} exited on its own (${signal ?? code}): ${stderr.slice(-10).join(" | ")}`;
  });
  return child;
}

function ask(child: Child, command: string, prefix: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver ${child.proc.pid} did not answer ${command} within ${timeoutMs} ms`)), timeoutMs);
    child.waiters.push({
      prefix: `${prefix} `,
      resolve: (line) => {
        clearTimeout(timer);
        resolve(line);
      },
    });
    child.proc.stdin!.write(`${command}\n`);
  });
}

async function stop(child: Child): Promise<void> {
  if (!child.alive || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.alive = false;
  const exited = new Promise<void>((resolve) => child.proc.once("exit", () => resolve()));
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function isSuccess(status: number | string): boolean {
  return typeof status === "number" && status >= 200 && status < 300;
}

/** Runs one chaos run end to end and reports what the databases say happened. */
export async function runChaos(config: ChaosConfig): Promise<ChaosReport> {
  const log = config.log ?? (() => {});
  const runId = randomBytes(4).toString("hex");
  const effects = `hg_chaos_effects_${runId}`;
  const attemptsTable = `hg_chaos_attempts_${runId}`;
  const storeName = config.backend === "redis" ? `hg:chaos:${runId}:` : `hg_chaos_store_${runId}`;
  const eventId = (i: number): string => `evt_chaos_${runId}_${i}`;
  const forgedId = (n: number): string => `evt_forged_${runId}_${n}`;

  const app = new pg.Pool({ connectionString: postgresUrl, max: 3 });
  app.on("error", () => {});
  const redis = config.backend === "redis" ? new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on("error", () => {});
  const children: Child[] = [];
  let proxy: TcpProxy | undefined;

  try {
    await app.query(
      `CREATE TABLE ${effects} (event_id text PRIMARY KEY, done integer NOT NULL, pids integer[] NOT NULL, attempt integer NOT NULL, first_at timestamptz NOT NULL, last_at timestamptz NOT NULL)`,
    );
    await app.query(`CREATE TABLE ${attemptsTable} (event_id text PRIMARY KEY, n integer NOT NULL)`);
    if (config.backend === "postgres") await postgresStore({ client: app, table: storeName }).createTable();
    const target = new URL(config.backend === "redis" ? redisUrl : postgresUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || (config.backend === "redis" ? 6379 : 5432)) });

    const env = {
      CHAOS_BACKEND: config.backend,
      CHAOS_STORE_PORT: String(proxy.port),
      CHAOS_STORE_NAME: storeName,
      CHAOS_EFFECTS: effects,
      CHAOS_ATTEMPTS: attemptsTable,
      CHAOS_SECRET: SECRET,
      CHAOS_LEASE_MS: String(config.leaseMs),
      CHAOS_MAX_BODY_BYTES: String(config.maxBodyBytes),
      CHAOS_WORK_MS: config.workMs.join(","),
      CHAOS_POOL: String(config.poolSize),
      CHAOS_RETRY_COMPLETE: config.retryComplete ? "1" : "0",
    };
    children.push(...(await Promise.all(Array.from({ length: config.processes }, () => spawnReceiver(env)))));
    let livePorts = children.map((c) => c.port);
    log(`[${config.backend}] run ${runId}: ${children.length} receivers on ports ${livePorts.join(", ")}, store via proxy :${proxy.port}`);

    // The events and the provider's delivery order: some events' copies back to back (they
    // overlap), the others' scattered through the run (late, out-of-order duplicates).
    const failFirst = new Set(shuffle(Array.from({ length: config.events }, (_, i) => i)).slice(0, Math.round(config.events * config.failFirstRatio)));
    const bodies = Array.from({ length: config.events }, (_, i) => JSON.stringify({ id: eventId(i), type: "chaos.event", data: { n: i, failFirst: failFirst.has(i) } }));
    const groups: Delivery[][] = [];
    for (let i = 0; i < config.events; i++) {
      const copies = Array.from({ length: config.copies }, () => ({ event: i, body: bodies[i]! }));
      if (Math.random() < config.burstRatio) groups.push(copies);
      else for (const c of copies) groups.push([c]);
    }
    const deliveries = shuffle(groups).flat();

    const started = Date.now();
    const deadline = started + config.deadlineMs;
    const forgedLog = emptyForgedLog();
    const forgedOptions = {
      secret: SECRET,
      toleranceSeconds: TOLERANCE_SECONDS,
      maxBodyBytes: config.maxBodyBytes,
      id: forgedId,
      ports: () => livePorts,
      concurrency: config.forgedConcurrency,
      timeoutMs: config.requestTimeoutMs,
      deadline,
    };
    const half = Math.floor(config.forged / 2);
    const background: Promise<unknown>[] = [forgeFlood(forgedLog, 0, half, forgedOptions)];

    let acked = 0;
    let kill: { pid: number; at: number; ids: string[]; pastGate: number } | undefined;
    let outage: { start: number; end: number } | undefined;
    const onAck = (): void => {
      acked++;
      const progress = acked / deliveries.length;
      if (config.killAt > 0 && progress >= config.killAt && kill === undefined) {
        const victim = children[children.length - 1]!;
        kill = { pid: victim.proc.pid!, at: Number.NaN, ids: [], pastGate: -1 };
        background.push(
          (async () => {
            // Every handler of the victim stops before its side effect; once none is
            // between its side effect and its answer, SIGKILL: mid-handler, leases held.
            const frozen = JSON.parse(await ask(victim, "FREEZE", "FROZEN", 15_000)) as { ids: string[]; pastGate: number };
            livePorts = livePorts.filter((p) => p !== victim.port);
            victim.alive = false;
            victim.proc.kill("SIGKILL");
            kill = { pid: victim.proc.pid!, at: Date.now(), ...frozen };
            log(`[${config.backend}] SIGKILL receiver ${victim.proc.pid} with ${frozen.ids.length} handlers mid-run`);
          })(),
        );
      }
      if (config.outageAt > 0 && progress >= config.outageAt && outage === undefined) {
        outage = { start: Date.now(), end: Number.POSITIVE_INFINITY };
        proxy!.down();
        log(`[${config.backend}] store unreachable for ${config.outageMs} ms`);
        background.push(forgeFlood(forgedLog, half, config.forged - half, forgedOptions));
        background.push(
          sleep(config.outageMs).then(() => {
            proxy!.up();
            outage!.end = Date.now();
            log(`[${config.backend}] store reachable again`);
          }),
        );
      }
    };

    const progress = setInterval(() => log(`[${config.backend}] ${acked} of ${deliveries.length} deliveries acknowledged after ${Math.round((Date.now() - started) / 1000)} s`), 15_000);
    let delivered: Awaited<ReturnType<typeof deliverAll>>;
    try {
      delivered = await deliverAll(deliveries, {
        scheme: stripe({ secret: SECRET }),
        ports: () => livePorts,
        concurrency: config.concurrency,
        backoff: config.backoff,
        requestTimeoutMs: config.requestTimeoutMs,
        deadline,
        onAck,
      });
      // The forged flood and the fault timers are bounded too.
      await Promise.all(background);
    } finally {
      clearInterval(progress);
    }
    const { results, log: driverLog } = delivered;
    const wallMs = Date.now() - started;

    const receiverErrors: Record<string, number> = {};
    const completeFailed = new Set<string>();
    for (const c of children.filter((c) => c.alive && c.crashed === undefined)) {
      const stats = JSON.parse(await ask(c, "STATS", "STATS", 5000)) as { errors: Record<string, number>; completeFailed: string[] };
      add(receiverErrors, stats.errors);
      for (const id of stats.completeFailed) completeFailed.add(id);
    }

    return await assess({
      config,
      runId,
      started,
      wallMs,
      results,
      driverLog,
      forgedLog,
      kill,
      outage,
      proxyResets: proxy.stats().reset,
      receiverErrors,
      completeFailed,
      crashes: children.flatMap((c) => (c.crashed ? [c.crashed] : [])),
      failFirst,
      eventId,
      query: (sql) => app.query(sql).then((r) => r.rows as Record<string, unknown>[]),
      storeState: () => (redis ? redisState(redis, storeName) : postgresState(app, storeName)),
    });
  } finally {
    await Promise.allSettled(children.map(stop));
    await proxy?.close();
    await app.query(`DROP TABLE IF EXISTS ${effects}, ${attemptsTable}`).catch(() => {});
    // createTable() also makes `<table>_watermarks` for the out-of-order guard.
    if (config.backend === "postgres") await app.query(`DROP TABLE IF EXISTS ${storeName}, ${storeName}_watermarks`).catch(() => {});
    if (redis) {
      await deleteKeys(redis, storeName).catch(() => {});
      redis.disconnect();
    }
    await app.end();
  }
}

type StoreKey = { key: string; completed: boolean };

async function* scanKeys(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = "0";
  // SCAN, not KEYS: the server is shared; bounded by the keyspace it walks.
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) yield keys;
  } while (cursor !== "0");
}

async function redisState(redis: Redis, prefix: string): Promise<StoreKey[]> {
  const out: StoreKey[] = [];
  for await (const keys of scanKeys(redis, prefix)) {
    const values = await redis.mget(...keys);
    keys.forEach((k, i) => out.push({ key: k.slice(prefix.length), completed: values[i] === "C" }));
  }
  return out;
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of scanKeys(redis, prefix)) await redis.unlink(...keys);
}

async function postgresState(app: pg.Pool, table: string): Promise<StoreKey[]> {
  const { rows } = await app.query<{ key: string; completed: boolean; live: boolean }>(`SELECT key, completed, expires_at > statement_timestamp() AS live FROM ${table}`);
  // An expired row is absent as far as the store's contract goes.
  return rows.filter((r) => r.live).map((r) => ({ key: r.key, completed: r.completed }));
}

interface Evidence {
  readonly config: ChaosConfig;
  readonly runId: string;
  readonly started: number;
  readonly wallMs: number;
  readonly results: readonly DeliveryResult[];
  readonly driverLog: DriverLog;
  readonly forgedLog: ForgedLog;
  readonly kill: { pid: number; at: number; ids: string[]; pastGate: number } | undefined;
  readonly outage: { start: number; end: number } | undefined;
  readonly proxyResets: number;
  readonly receiverErrors: Record<string, number>;
  readonly completeFailed: ReadonlySet<string>;
  readonly crashes: readonly string[];
  readonly failFirst: ReadonlySet<number>;
  readonly eventId: (i: number) => string;
  readonly query: (sql: string) => Promise<Record<string, unknown>[]>;
  readonly storeState: () => Promise<StoreKey[]>;
}

const EFFECTS_SQL = (t: string): string =>
  `SELECT event_id, done, pids, (extract(epoch FROM first_at) * 1000)::float8 AS at_ms, (extract(epoch FROM last_at) * 1000)::float8 AS last_ms FROM ${t}`;

async function assess(e: Evidence): Promise<ChaosReport> {
  const { config } = e;
  const effects = `hg_chaos_effects_${e.runId}`;
  const attemptsTable = `hg_chaos_attempts_${e.runId}`;
  const effectRows = (await e.query(EFFECTS_SQL(effects))) as { event_id: string; done: number; pids: number[]; at_ms: number; last_ms: number }[];
  const attemptRows = (await e.query(`SELECT event_id, n FROM ${attemptsTable}`)) as { event_id: string; n: number }[];
  const storeKeys = await e.storeState();

  const expected = new Map(Array.from({ length: config.events }, (_, i) => [e.eventId(i), i]));
  const effectOf = new Map(effectRows.map((r) => [r.event_id, r]));
  const attemptsOf = new Map(attemptRows.map((r) => [r.event_id, r.n]));
  const isForged = (id: string): boolean => id.startsWith("evt_forged_");

  // Per event: every copy acknowledged? when was the first 2xx?
  const ackedCopies = new Array<number>(config.events).fill(0);
  const firstAck = new Array<number>(config.events).fill(Number.POSITIVE_INFINITY);
  for (const r of e.results) {
    if (r.ackedAt === undefined) continue;
    ackedCopies[r.event]!++;
    firstAck[r.event] = Math.min(firstAck[r.event]!, r.ackedAt);
  }

  let sideEffects = 0;
  let exactlyOnce = 0;
  let processedTwice = 0;
  let acknowledgedBeforeProcessed = 0;
  for (const [id, i] of expected) {
    const row = effectOf.get(id);
    if (!row) {
      if (Number.isFinite(firstAck[i]!)) acknowledgedBeforeProcessed++;
      continue;
    }
    sideEffects++;
    if (row.done === 1) exactlyOnce++;
    else processedTwice++;
    // Same machine, same clock; 5 ms covers the two clocks' reading granularity, far below
    // the provider's smallest retry delay, so an ack that came before any processing shows.
    if (row.at_ms > firstAck[i]! + 5) acknowledgedBeforeProcessed++;
  }
  const unexpectedSideEffects = effectRows.filter((r) => !expected.has(r.event_id)).length;

  // Retried and then processed: a second handler run, and a side effect. (How many times
  // the side effect landed is the exactly-once figure's business, for every event.)
  const recovered = (id: string): boolean => effectOf.has(id) && (attemptsOf.get(id) ?? 0) >= 2;
  let recoveredFlagged = 0;
  for (const i of e.failFirst) if (recovered(e.eventId(i))) recoveredFlagged++;

  const killedIds = e.kill?.ids.filter((id) => expected.has(id)) ?? [];
  const killRecovered = killedIds.filter(recovered).length;

  let outageFigures: ChaosReport["faults"]["outage"];
  if (e.outage) {
    const { start, end } = e.outage;
    const during = e.driverLog.timeline.filter((t) => t.at >= start && t.at <= end);
    outageFigures = {
      ms: end - start,
      answered503: during.filter((t) => t.status === 503).length,
      answered2xx: during.filter((t) => isSuccess(t.status)).length,
      noAnswer: during.filter((t) => typeof t.status === "string").length,
      proxyResets: e.proxyResets,
    };
  }

  let forgedSent = 0;
  let forged2xx = 0;
  let forgedOther = 0;
  for (const kind of FORGED_KINDS) {
    const k = e.forgedLog[kind];
    forgedSent += k.sent;
    for (const [answer, n] of Object.entries(k.answers)) {
      const status = Number(answer);
      if (status >= 200 && status < 300) forged2xx += n;
      // A 4xx, or a connection closed after the server refused to read on, is a refusal.
      else if (!(answer === "closed" || (status >= 400 && status < 500))) forgedOther += n;
    }
  }
  const forgedRuns = attemptRows.filter((r) => isForged(r.event_id)).length;
  const forgedKeys = storeKeys.filter((k) => k.key.includes("evt_forged_")).length;
  const forgedEffects = effectRows.filter((r) => isForged(r.event_id)).length;

  const expectedKeys = new Set([...expected.keys()].map((id) => `stripe:${id}`));
  const store = {
    completed: storeKeys.filter((k) => expectedKeys.has(k.key) && k.completed).length,
    leased: storeKeys.filter((k) => !k.completed).length,
    forgedKeys,
    otherKeys: storeKeys.filter((k) => !expectedKeys.has(k.key) && !k.key.includes("evt_forged_")).length,
  };

  const statuses = e.driverLog.statuses;
  const totalDeliveries = config.events * config.copies;
  const acknowledged = e.results.filter((r) => r.ackedAt !== undefined).length;
  const attempts = e.results.reduce((n, r) => n + r.attempts, 0);
  const lat = e.driverLog.latencies;
  const seconds = e.wallMs / 1000;

  const report: Omit<ChaosReport, "failures"> = {
    backend: config.backend,
    runId: e.runId,
    config: { ...config, log: undefined } as Omit<ChaosConfig, "log">,
    wallMs: e.wallMs,
    deliveries: { total: totalDeliveries, acknowledged, attempts, statuses },
    events: {
      total: config.events,
      delivered: ackedCopies.filter((n) => n === config.copies).length,
      sideEffects,
      exactlyOnce,
      lost: config.events - sideEffects,
      processedTwice,
      unexpectedSideEffects,
      acknowledgedBeforeProcessed,
      handlerRuns: attemptRows.reduce((n, r) => n + r.n, 0),
    },
    store,
    faults: {
      firstAttemptFailures: { events: e.failFirst.size, answered500: statuses[500] ?? 0, recovered: recoveredFlagged },
      kill: e.kill && { pid: e.kill.pid, killedMidHandler: killedIds.length, recovered: killRecovered, inSideEffectWindow: e.kill.pastGate },
      outage: outageFigures,
      forged: { sent: forgedSent, byKind: e.forgedLog, answered2xx: forged2xx, answeredOther: forgedOther, handlerRuns: forgedRuns, storeKeys: forgedKeys, sideEffects: forgedEffects },
    },
    processedTwiceDetail: effectRows
      .filter((r) => expected.has(r.event_id) && r.done > 1)
      .map((r) => ({
        id: r.event_id,
        runs: r.done,
        pids: r.pids,
        firstMs: Math.round(r.at_ms - e.started),
        lastMs: Math.round(r.last_ms - e.started),
        afterFailedComplete: e.completeFailed.has(r.event_id),
      })),
    timeline: {
      killMs: e.kill && Number.isFinite(e.kill.at) ? e.kill.at - e.started : undefined,
      outageMs: e.outage && [e.outage.start - e.started, e.outage.end - e.started],
    },
    receiverErrors: e.receiverErrors,
    crashes: e.crashes,
    latencyMs: { p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: percentile(lat, 100) },
    throughput: { deliveriesPerSecond: acknowledged / seconds, requestsPerSecond: lat.length / seconds },
  };
  return { ...report, failures: failuresOf(report) };
}

function failuresOf(r: Omit<ChaosReport, "failures">): string[] {
  const f: string[] = [];
  const check = (ok: boolean, message: string): void => {
    if (!ok) f.push(message);
  };
  const { events: ev, faults, store, config } = r;
  for (const crash of r.crashes) f.push(crash);
  check(r.deliveries.acknowledged === r.deliveries.total, `deliveries acknowledged: ${r.deliveries.acknowledged} of ${r.deliveries.total}`);
  check(ev.delivered === ev.total, `events delivered (every copy acknowledged): ${ev.delivered} of ${ev.total}`);
  check(ev.sideEffects === ev.total, `side effects recorded: ${ev.sideEffects} of ${ev.total}`);
  check(ev.exactlyOnce === ev.total, `processed exactly once: ${ev.exactlyOnce} of ${ev.total}`);
  check(ev.lost === 0, `lost: ${ev.lost}`);
  check(ev.processedTwice === 0, `processed twice or more: ${ev.processedTwice}`);
  check(ev.unexpectedSideEffects === 0, `side effects for events never sent: ${ev.unexpectedSideEffects}`);
  check(ev.acknowledgedBeforeProcessed === 0, `acknowledged before being processed: ${ev.acknowledgedBeforeProcessed}`);
  check(store.completed === ev.total, `store: ${store.completed} of ${ev.total} events marked completed (an acknowledged event left unmarked runs again on its next duplicate)`);
  check(store.leased === 0, `store: ${store.leased} live leases left after every delivery was acknowledged`);
  check(store.otherKeys === 0, `store: ${store.otherKeys} keys for events never sent`);
  const ff = faults.firstAttemptFailures;
  check(ff.events === 0 || ff.answered500 > 0, "first-attempt failures: no delivery was answered 500, the fault never fired");
  check(ff.recovered === ff.events, `first-attempt failures: ${ff.recovered} of ${ff.events} retried and then processed`);
  if (config.killAt > 0) {
    const k = faults.kill;
    check(k !== undefined && k.killedMidHandler > 0, "kill: no receiver was killed with a handler mid-run");
    if (k) check(k.recovered === k.killedMidHandler, `kill: ${k.recovered} of ${k.killedMidHandler} killed handlers' events retried and processed after their lease expired`);
    if (k) check(k.inSideEffectWindow === 0, `kill: ${k.inSideEffectWindow} handlers were between their side effect and their answer at the kill`);
  }
  if (config.outageAt > 0) {
    const o = faults.outage;
    check(o !== undefined && o.answered503 > 0, "outage: no delivery was answered 503 while the store was unreachable");
  }
  const fg = faults.forged;
  check(fg.sent === config.forged, `forged requests sent: ${fg.sent} of ${config.forged}`);
  check(fg.answered2xx === 0, `forged requests answered 2xx: ${fg.answered2xx}`);
  check(fg.answeredOther === 0, `forged requests answered neither 4xx nor a closed connection: ${fg.answeredOther}`);
  check(fg.handlerRuns === 0, `handler runs caused by forged requests: ${fg.handlerRuns}`);
  check(fg.storeKeys === 0, `store keys written by forged requests: ${fg.storeKeys}`);
  check(fg.sideEffects === 0, `side effects of forged requests: ${fg.sideEffects}`);
  return f;
}

const n = (x: number): string => x.toLocaleString("en-US");
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/** The report as plain text, one figure a line. */
export function formatReport(r: ChaosReport): string {
  const { events: ev, faults, store, deliveries: d } = r;
  const lines = [
    `chaos run ${r.runId} — ${r.backend} store, ${r.config.processes} receiver processes, concurrency ${r.config.concurrency}, lease ${r.config.leaseMs} ms`,
    `  events ${n(ev.total)} × ${r.config.copies} deliveries = ${n(d.total)}; HTTP attempts ${n(d.attempts)}; statuses ${JSON.stringify(d.statuses)}`,
    `  deliveries acknowledged     ${n(d.acknowledged)} / ${n(d.total)}`,
    `  events delivered            ${n(ev.delivered)} / ${n(ev.total)}`,
    `  side effects recorded       ${n(ev.sideEffects)}`,
    `  processed exactly once      ${n(ev.exactlyOnce)}`,
    `  lost                        ${n(ev.lost)}`,
    `  processed twice             ${n(ev.processedTwice)}`,
    `  acked before processed      ${n(ev.acknowledgedBeforeProcessed)}`,
    `  handler runs                ${n(ev.handlerRuns)} (failed and killed runs included)`,
    `  store                       ${n(store.completed)} completed, ${store.leased} leased, ${store.otherKeys} unknown`,
    `  first-attempt failures      ${n(faults.firstAttemptFailures.events)} events, ${n(faults.firstAttemptFailures.answered500)} answered 500, ${n(faults.firstAttemptFailures.recovered)} retried and then processed`,
  ];
  if (faults.kill) {
    lines.push(
      `  SIGKILL mid-handler         pid ${faults.kill.pid}: ${faults.kill.killedMidHandler} handlers killed, ${faults.kill.recovered} retried and processed after lease expiry`,
    );
  }
  if (faults.outage) {
    const o = faults.outage;
    lines.push(`  store outage                ${o.ms} ms: ${n(o.answered503)} answered 503, ${o.noAnswer} unanswered, ${o.answered2xx} answered 2xx (work done before it), ${n(o.proxyResets)} connections reset`);
  }
  const fg = faults.forged;
  lines.push(
    `  forged requests             ${n(fg.sent)} sent; answered 2xx: ${fg.answered2xx}; handler runs: ${fg.handlerRuns}; store keys: ${fg.storeKeys}; side effects: ${fg.sideEffects}; other answers: ${fg.answeredOther}`,
  );
  for (const kind of FORGED_KINDS) lines.push(`    ${kind.padEnd(28)}${String(fg.byKind[kind].sent).padStart(6)}  ${JSON.stringify(fg.byKind[kind].answers)}`);
  if (r.processedTwiceDetail.length > 0) {
    const t = r.timeline;
    lines.push(
      `  processed twice, in detail  (kill at ${t.killMs ?? "-"} ms, outage ${t.outageMs ? `${t.outageMs[0]}–${t.outageMs[1]}` : "-"} ms into the run)`,
    );
    for (const d of r.processedTwiceDetail.slice(0, 12)) {
      lines.push(`    ${d.id}: ${d.runs} runs (pids ${d.pids.join(", ")}), first at ${d.firstMs} ms, last at ${d.lastMs} ms${d.afterFailedComplete ? "; the first run's complete() failed and it was answered 2xx" : ""}`);
    }
  }
  lines.push(
    `  receiver errors (onError)   ${JSON.stringify(r.receiverErrors)}`,
    `  latency                     p50 ${ms(r.latencyMs.p50)}, p90 ${ms(r.latencyMs.p90)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`,
    `  throughput                  ${r.throughput.deliveriesPerSecond.toFixed(0)} acknowledged deliveries/s, ${r.throughput.requestsPerSecond.toFixed(0)} requests/s over ${(r.wallMs / 1000).toFixed(1)} s`,
    r.failures.length === 0 ? "  RESULT                      every figure as it should be" : `  RESULT                      ${r.failures.length} figure(s) off:\n${r.failures.map((f) => `    - ${f}`).join("\n")}`,
  );
  return lines.join("\n");
}
