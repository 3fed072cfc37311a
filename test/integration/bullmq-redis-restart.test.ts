// What a Redis crash does to acknowledged jobs, on a private redis-server this test starts
// and SIGKILLs (never the shared one): with appendonly + appendfsync always every job the
// receiver answered 202 for is still there; without persistence none is. This is the
// evidence for the guarantees table in docs/guides/many-machines.md.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createWebhookReceiver, signWebhook } from "../../src/index";
import { bullmqQueue, type BullmqWebhookQueue } from "../../src/queues/bullmq";
import { eventBody, scheme } from "./fixtures/bullmq-env";

const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Starts redis-server in the foreground; resolves once it answers PING. */
async function startRedis(port: number, dir: string, persistence: string[]): Promise<ChildProcess> {
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...persistence], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on("error", () => {});
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return proc;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function crash(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGKILL");
  await exited;
}

describe.skipIf(!hasRedisServer)("hookguard/bullmq across a Redis crash (a private redis-server, SIGKILLed)", () => {
  const servers: ChildProcess[] = [];
  const queues: BullmqWebhookQueue[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close().catch(() => {});
    for (const s of servers.splice(0)) await crash(s);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  for (const [label, persistence, survivors] of [
    ["appendonly yes, appendfsync always: every acknowledged job survives", ["--appendonly", "yes", "--appendfsync", "always"], 30],
    ["no persistence (this machine's shared Redis): every queued job is lost", ["--appendonly", "no"], 0],
  ] as const) {
    it(label, async () => {
      const dir = mkdtempSync(join(tmpdir(), "hg-redis-"));
      dirs.push(dir);
      const port = await freePort();
      servers.push(await startRedis(port, dir, [...persistence]));

      const silent = { error: () => {} };
      const front = bullmqQueue({ connection: { host: "127.0.0.1", port }, worker: false, logger: silent });
      queues.push(front);
      const receiver = createWebhookReceiver({ scheme, background: { queue: front } });
      receiver.on("order.paid", () => {});
      const statuses = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const body = eventBody(`evt_restart_${i}`, i);
          return (await receiver.receive({ body, headers: await signWebhook(body, scheme) })).status;
        }),
      );
      expect(statuses.every((s) => s === 202)).toBe(true);

      // The crash: no shutdown, no final save.
      await crash(servers.pop()!);
      servers.push(await startRedis(port, dir, [...persistence]));

      // Counted before any worker starts taking them.
      const back = bullmqQueue({ connection: { host: "127.0.0.1", port }, logger: silent });
      queues.push(back);
      expect(await back.queue.getJobCountByTypes("wait")).toBe(survivors);
      const runs: string[] = [];
      const worker = createWebhookReceiver({ scheme, background: { queue: back } });
      worker.on("order.paid", (e) => void runs.push(e.id!));
      await back.drain();
      expect(new Set(runs).size).toBe(survivors);
    }, 30_000);
  }
});
