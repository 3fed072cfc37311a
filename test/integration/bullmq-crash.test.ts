// Kill tests for hookguard/bullmq against the real Redis: receiving instances and workers
// are separate Node processes, killed with SIGKILL (no shutdown code runs), and Redis
// records what every handler run did.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWebhookReceiver, signWebhook } from "../../src/index";
import { bullmqQueue, type BullmqWebhookQueue } from "../../src/queues/bullmq";
import { jobIdFor } from "../../src/queues/internal/job-id";
import { redisAvailable } from "../helpers/services";
import { connection, eventBody, scheme } from "./fixtures/bullmq-env";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line matching `re` (already printed or to come). */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves once the process has exited. */
  readonly exited: Promise<number | null>;
}

const children: Child[] = [];

function start(script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", fixture(script)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let rest = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    rest += chunk.toString();
    const parts = rest.split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const child: Child = {
    proc,
    lines,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (const line of lines) {
            const m = re.exec(line);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${script} did not print ${re} within ${timeoutMs} ms; it printed: ${lines.join(" | ")}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
        void exited.then(() => setTimeout(() => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`${script} exited before printing ${re}; it printed: ${lines.join(" | ")}`));
          }
        }, 50));
      });
    },
  };
  children.push(child);
  return child;
}

async function kill(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
  await child.exited;
}

/** Polls until `check` returns true; fails with `what` after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A TCP proxy to Redis that holds what clients send for `delayMs`, and drops it if the
 * client dies meanwhile: a slow network, so that a job a receiver did not wait for would
 * really be lost with the receiver.
 */
async function slowRedis(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(connection());
    let open = true;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        open = false;
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk) => setTimeout(() => open && upstream.write(chunk), delayMs));
    upstream.on("data", (chunk) => open && client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** POSTs one signed delivery; the status, or 0 when the connection failed (the receiver died). */
async function deliver(port: number, body: string, headers: Record<string, string>): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/webhooks`, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

describe("hookguard/bullmq: processes killed with SIGKILL", async () => {
  const ready = await redisAvailable();
  const run = randomBytes(4).toString("hex");
  const prefix = `hgtest-bullmq-crash-${run}`;
  let redis: Redis;
  let n = 0;
  let current: { name: string; fx: string; queue: BullmqWebhookQueue } | undefined;

  /** A fresh BullMQ queue name and effects key for one test, and a receive-only handle on it. */
  function fresh(): { name: string; fx: string; env: Record<string, string>; queue: BullmqWebhookQueue } {
    const name = `crash-${run}-${++n}`;
    const fx = `${prefix}:fx:${n}`;
    const queue = bullmqQueue({ connection: connection(), name, prefix, worker: false });
    current = { name, fx, queue };
    return { name, fx, queue, env: { QUEUE_NAME: name, QUEUE_PREFIX: prefix, FX: fx } };
  }

  beforeAll(() => {
    if (ready) redis = new Redis(connection());
  });

  afterEach(async () => {
    await Promise.all(children.splice(0).map(kill));
    if (current) {
      await current.queue.queue.obliterate({ force: true });
      await current.queue.close();
      current = undefined;
    }
  });

  afterAll(async () => {
    if (!ready) return;
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it.skipIf(!ready)("a receiver killed right after answering 202 loses nothing, and the redeliveries add no second job", async () => {
    const { name, fx, env, queue } = fresh();
    const EVENTS = 40;
    const events = await Promise.all(
      Array.from({ length: EVENTS }, async (_, i) => {
        const id = `evt_crash_${run}_${i}`;
        const body = eventBody(id, i);
        return { id, body, headers: await signWebhook(body, scheme) };
      }),
    );

    // The first receiver dies right after its 5th 202, with the other deliveries in flight,
    // and reaches Redis over a slow link: whatever it had not waited for would be lost.
    const proxy = await slowRedis(100);
    const doomed = start("bullmq-receiver.ts", { ...env, KILL_AFTER_ACKS: "5", REDIS_URL: proxy.url });
    const port = Number((await doomed.waitFor(/^PORT (\d+)$/, 20_000))[1]);
    // Spread over ~600 ms, so that some deliveries are mid-flight when it dies and some come after.
    const first = await Promise.all(events.map(async (e, i) => {
      await new Promise((r) => setTimeout(r, i * 15));
      return deliver(port, e.body, e.headers);
    }));
    await doomed.exited;
    await proxy.close();
    expect(doomed.proc.signalCode).toBe("SIGKILL");
    const acked = events.filter((_, i) => first[i] === 202);
    expect(acked.length).toBeGreaterThanOrEqual(1);
    expect(acked.length).toBeLessThan(EVENTS);

    // Every acknowledged event is in Redis, though no process of the receiver is left.
    for (const e of acked) expect(await queue.queue.getJob(jobIdFor(`stripe:${e.id}`)), e.id).toBeDefined();

    // The provider retries what was not acknowledged, at a fresh receiver (with a fresh,
    // empty memory store: only the job ids stop a second job for events stored before the kill).
    const second = start("bullmq-receiver.ts", env);
    const port2 = Number((await second.waitFor(/^PORT (\d+)$/, 20_000))[1]);
    const retried = await Promise.all(events.filter((_, i) => first[i] !== 202).map((e) => deliver(port2, e.body, e.headers)));
    expect(retried.every((s) => s === 202)).toBe(true);
    expect(await queue.queue.getJobCountByTypes("wait")).toBe(EVENTS);

    // A worker runs them: each event once.
    const worker = start("bullmq-worker.ts", env);
    await worker.waitFor(/^READY$/, 20_000);
    await eventually(async () => (await redis.hlen(`${fx}:done`)) === EVENTS, `${EVENTS} events done`, 20_000);
    await queue.drain();
    const done = await redis.hgetall(`${fx}:done`);
    expect(Object.keys(done).sort()).toEqual(events.map((e) => e.id).sort());
    expect(Object.values(done).every((v) => v === "1")).toBe(true);
    expect(await redis.llen(`${fx}:starts`)).toBe(EVENTS);
    expect(await queue.queue.getJobCountByTypes("completed")).toBe(EVENTS);
    expect(name).toContain(run);
  }, 90_000);

  it.skipIf(!ready)("a worker killed mid-job: another worker runs the job again (attempt 2), nothing is dead-lettered", async () => {
    const { fx, env } = fresh();
    const ids = Array.from({ length: 5 }, (_, i) => `evt_stall_${run}_${i}`);
    const receiver = createWebhookReceiver({ scheme, background: { queue: current!.queue } });
    receiver.on("order.paid", () => {});
    for (const id of ids) {
      const body = eventBody(id);
      expect((await receiver.receive({ body, headers: await signWebhook(body, scheme) })).status).toBe(202);
    }

    const doomed = start("bullmq-worker.ts", { ...env, HANG: "1" });
    for (const id of ids) await doomed.waitFor(new RegExp(`^STARTED ${id} 1$`), 20_000);
    await kill(doomed);
    expect(await current!.queue.queue.getJobCountByTypes("active")).toBe(ids.length);

    const rescuer = start("bullmq-worker.ts", env);
    await rescuer.waitFor(/^READY$/, 20_000);
    const readyAt = Date.now();
    await eventually(async () => (await redis.hlen(`${fx}:done`)) === ids.length, "the stalled jobs to complete", 20_000);
    // Lock 1 s, stalled-job check every 0.5 s: taken over within seconds, not minutes.
    expect(Date.now() - readyAt).toBeLessThan(10_000);

    const starts = (await redis.lrange(`${fx}:starts`, 0, -1)).map((s) => s.split("|"));
    for (const id of ids) {
      const runs = starts.filter(([e]) => e === id);
      // At least once: the killed run started the handler, the rescuer ran it to the end.
      expect(runs.map(([, attempt, pid]) => [attempt, pid])).toEqual([
        ["1", String(doomed.proc.pid)],
        ["2", String(rescuer.proc.pid)],
      ]);
    }
    expect(Object.values(await redis.hgetall(`${fx}:done`))).toEqual(ids.map(() => "1"));
    await current!.queue.drain();
    expect(await current!.queue.queue.getJobCountByTypes("failed")).toBe(0);
    expect(rescuer.lines.filter((l) => l.startsWith("DEAD_LETTER") || l.startsWith("STALLED_OUT"))).toEqual([]);
  }, 60_000);

  it.skipIf(!ready)("a worker killed in its second handler: with a shared store the first is not run again, the second runs once its lease expired", async () => {
    const { fx, env } = fresh();
    const id = `evt_two_${run}`;
    const receiver = createWebhookReceiver({ scheme, background: { queue: current!.queue } });
    receiver.on("order.paid", () => {});
    const body = eventBody(id);
    expect((await receiver.receive({ body, headers: await signWebhook(body, scheme) })).status).toBe(202);

    // Per-handler claims live in the store: a 2 s lease, and retries 300 ms apart that
    // outlast it (the schedule must, or the job is dead-lettered while the lease runs).
    const shared = { ...env, LEDGER: "1", STORE_PREFIX: `${prefix}:store:${n}:`, LEASE_MS: "2000", BACKOFF_MS: "300" };
    const doomed = start("bullmq-worker.ts", { ...shared, HANG: "1" });
    await doomed.waitFor(new RegExp(`^STARTED ${id} 1$`), 20_000);
    await kill(doomed);
    const rescuer = start("bullmq-worker.ts", shared);
    await eventually(async () => (await redis.hget(`${fx}:done`, id)) === "1", "the second handler to complete", 20_000);
    expect(await redis.hget(`${fx}:ledger`, id)).toBe("1");
    expect((await redis.lrange(`${fx}:starts`, 0, -1)).map((s) => s.split("|")[2])).toEqual([String(doomed.proc.pid), String(rescuer.proc.pid)]);
    expect(rescuer.lines.filter((l) => l.startsWith("DEAD_LETTER"))).toEqual([]);
  }, 60_000);

  it.skipIf(!ready)("a job whose workers die more often than maxStalledCount is failed and reported to onStalledOut, not run again", async () => {
    const { fx, env } = fresh();
    const id = `evt_poison_${run}`;
    const receiver = createWebhookReceiver({ scheme, background: { queue: current!.queue } });
    receiver.on("order.paid", () => {});
    const body = eventBody(id);
    expect((await receiver.receive({ body, headers: await signWebhook(body, scheme) })).status).toBe(202);

    const doomed = start("bullmq-worker.ts", { ...env, HANG: "1", MAX_STALLED: "0" });
    await doomed.waitFor(new RegExp(`^STARTED ${id} 1$`), 20_000);
    await kill(doomed);

    const next = start("bullmq-worker.ts", { ...env, MAX_STALLED: "0" });
    await next.waitFor(new RegExp(`^STALLED_OUT ${id}$`), 20_000);
    expect(await redis.llen(`${fx}:starts`)).toBe(1);
    expect(await redis.hlen(`${fx}:done`)).toBe(0);
    const [failed] = await current!.queue.queue.getJobs(["failed"]);
    expect(failed?.id).toBe(jobIdFor(`stripe:${id}`));
    expect(failed?.failedReason).toMatch(/stalled more than allowable limit/);
  }, 60_000);

  it.skipIf(!ready)("duplicates never become two jobs: 3 receiving processes with separate memory stores, concurrent copies", async () => {
    const { fx, env, queue } = fresh();
    const EVENTS = 30;
    const COPIES = 4;
    const receivers = [start("bullmq-receiver.ts", env), start("bullmq-receiver.ts", env), start("bullmq-receiver.ts", env)];
    const ports = await Promise.all(receivers.map(async (r) => Number((await r.waitFor(/^PORT (\d+)$/, 20_000))[1])));
    const events = await Promise.all(
      Array.from({ length: EVENTS }, async (_, i) => {
        const id = `evt_dup_${run}_${i}`;
        const body = eventBody(id, i);
        return { id, body, headers: await signWebhook(body, scheme) };
      }),
    );
    const copies = events.flatMap((e) => Array.from({ length: COPIES }, (_, c) => ({ ...e, port: ports[c % ports.length]! })));
    copies.sort(() => Math.random() - 0.5);
    const statuses = await Promise.all(copies.map((c) => deliver(c.port, c.body, c.headers)));
    // Each store only knows its own process: several processes accepted the same event...
    expect(statuses.every((s) => s === 202 || s === 200 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(EVENTS);
    // ...and still the queue holds one job per event.
    expect(await queue.queue.getJobCountByTypes("wait")).toBe(EVENTS);

    const worker = start("bullmq-worker.ts", env);
    await worker.waitFor(/^READY$/, 20_000);
    await eventually(async () => (await redis.hlen(`${fx}:done`)) === EVENTS, `${EVENTS} events done`, 20_000);
    await queue.drain();
    expect(Object.values(await redis.hgetall(`${fx}:done`)).every((v) => v === "1")).toBe(true);
    expect(await redis.llen(`${fx}:starts`)).toBe(EVENTS);
  }, 90_000);
});
