// Decides whether the real Redis and PostgreSQL the store tests need are reachable.
//
// Locally, an unreachable service skips its suites, with one message per service saying
// why and how to start it. With CI set, it fails them instead: a CI run that silently
// skipped the real-database tests would pass without testing the stores at all.
import { Redis } from "ioredis";
import pg from "pg";
import { isCI } from "./ci";

/** Where the tests find Redis. */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Where the tests find PostgreSQL (trust auth, database `test`). */
export const postgresUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const START = {
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  PostgreSQL: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
} as const;

async function probeRedis(): Promise<void> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with a bare "Connection is closed."; the cause comes as an event.
  let cause: unknown;
  client.on("error", (e: unknown) => {
    cause ??= e;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
  } catch (e) {
    throw cause ?? e;
  } finally {
    client.disconnect();
  }
}

async function probePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => {});
  }
}

const probes = new Map<string, Promise<boolean>>();

function gate(service: keyof typeof START, url: string, probe: () => Promise<void>): Promise<boolean> {
  let answer = probes.get(service);
  if (!answer) {
    answer = probe().then(
      () => true,
      (e: unknown) => {
        const reason = e instanceof Error ? e.message || e.name : String(e);
        const where = url.replace(/\/\/[^@/]*@/, "//");
        if (isCI()) {
          throw new Error(`${service} at ${where} is unreachable (${reason}), and CI is set: the ${service} suites fail rather than skip. Start it with: ${START[service]}`);
        }
        console.warn(`[hookguard tests] Skipping the ${service} suites: ${where} is unreachable (${reason}). Start it with: ${START[service]}`);
        return false;
      },
    );
    probes.set(service, answer);
  }
  return answer;
}

/** Resolves whether Redis is reachable; rejects instead of resolving false when CI is set. */
export function redisAvailable(): Promise<boolean> {
  return gate("Redis", redisUrl, probeRedis);
}

/** Resolves whether PostgreSQL is reachable; rejects instead of resolving false when CI is set. */
export function postgresAvailable(): Promise<boolean> {
  return gate("PostgreSQL", postgresUrl, probePostgres);
}
