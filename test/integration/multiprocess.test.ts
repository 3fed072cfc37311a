// Several Node processes share one store and receive the same deliveries concurrently, over
// real HTTP; PostgreSQL counts how often each event's side effect ran.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook, stripe } from "../../src/index";
import { postgresAvailable, redisAvailable } from "../helpers/services";

const child = fileURLToPath(new URL("./fixtures/receiver-process.ts", import.meta.url));
const SECRET = "whsec_multiprocess";
const PROCESSES = 3;
const EVENTS = 60;
const COPIES = 3;

async function startReceivers(env: Record<string, string>): Promise<{ procs: ChildProcess[]; ports: number[] }> {
  const procs: ChildProcess[] = [];
  const ports = await Promise.all(
    Array.from({ length: PROCESSES }, () => {
      const proc = spawn(process.execPath, ["--import", "tsx", child], { env: { ...process.env, ...env, SECRET }, stdio: ["ignore", "pipe", "inherit"] });
      procs.push(proc);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("a receiver process did not start within 20 s")), 20_000);
        let out = "";
        proc.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const m = /PORT (\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        proc.on("exit", (code) => reject(new Error(`a receiver process exited early (${code})`)));
      });
    }),
  );
  return { procs, ports };
}

/** Delivers like a provider: retries on anything but 2xx, with a short backoff. */
async function deliverUntilAcknowledged(ports: number[], body: string, headers: Record<string, string>): Promise<number[]> {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = ports[Math.floor(Math.random() * ports.length)]!;
    const res = await fetch(`http://127.0.0.1:${port}/webhooks`, { method: "POST", headers, body });
    await res.arrayBuffer();
    statuses.push(res.status);
    if (res.status >= 200 && res.status < 300) return statuses;
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
  }
  throw new Error(`a delivery was never acknowledged: ${statuses.join(",")}`);
}

for (const backend of ["redis", "postgres"] as const) {
  describe(`multi-process exactly-once on ${backend}`, async () => {
    const ready = (await postgresAvailable()) && (backend === "postgres" || (await redisAvailable()));
    const suffix = randomBytes(4).toString("hex");
    const effects = `hg_mp_effects_${backend}_${suffix}`;
    const storeName = backend === "redis" ? `hg:mp:${suffix}:` : `hg_mp_store_${suffix}`;
    let pool: pg.Pool;
    let procs: ChildProcess[] = [];
    let ports: number[] = [];

    beforeAll(async () => {
      if (!ready) return;
      pool = new pg.Pool({ host: "127.0.0.1", user: "postgres", database: "test", max: 4 });
      await pool.query(`CREATE TABLE ${effects} (event_id text PRIMARY KEY, runs integer NOT NULL, pid integer NOT NULL)`);
      if (backend === "postgres") {
        const { postgresStore } = await import("../../src/stores/postgres");
        await postgresStore({ client: pool, table: storeName }).createTable();
      }
      ({ procs, ports } = await startReceivers({ STORE: backend, STORE_NAME: storeName, EFFECTS_TABLE: effects }));
    }, 60_000);

    afterAll(async () => {
      for (const p of procs) p.kill("SIGTERM");
      if (!ready) return;
      await pool.query(`DROP TABLE IF EXISTS ${effects}`);
      if (backend === "postgres") await pool.query(`DROP TABLE IF EXISTS ${storeName}, ${storeName}_watermarks`);
      else {
        const redis = new Redis({ host: "127.0.0.1", port: 6379 });
        const keys = await redis.keys(`${storeName}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
      await pool.end();
    });

    it.skipIf(!ready)(`${EVENTS} events × ${COPIES} concurrent copies across ${PROCESSES} processes: each side effect recorded exactly once`, async () => {
      const scheme = stripe({ secret: SECRET });
      const deliveries = await Promise.all(
        Array.from({ length: EVENTS }, async (_, i) => {
          const body = JSON.stringify({ id: `evt_mp_${suffix}_${i}`, type: "order.paid", data: { n: i } });
          return { body, headers: await signWebhook(body, scheme) };
        }),
      );
      const all = deliveries.flatMap((d) => Array.from({ length: COPIES }, () => d));
      all.sort(() => Math.random() - 0.5);
      const statuses = (await Promise.all(all.map((d) => deliverUntilAcknowledged(ports, d.body, d.headers)))).flat();
      const { rows } = await pool.query<{ event_id: string; runs: number }>(`SELECT event_id, runs FROM ${effects}`);
      expect(rows).toHaveLength(EVENTS);
      expect(rows.filter((r) => r.runs !== 1)).toEqual([]);
      // The copies did overlap: some were answered "in progress" or as duplicates.
      expect(statuses.length).toBeGreaterThanOrEqual(EVENTS * COPIES);
      const pids = await pool.query<{ n: number }>(`SELECT count(DISTINCT pid)::int AS n FROM ${effects}`);
      expect(pids.rows[0]!.n).toBeGreaterThan(1);
    }, 120_000);
  });
}
