// hookguard/bullmq against the real Redis, in one process: what a worker receives, one job
// per key, retries and the dead letter, receive-only and worker-only instances, a Redis
// that cannot be reached. The kill tests are in bullmq-crash.test.ts.
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createWebhookReceiver, hmacScheme, signWebhook, verifyWebhook, type HandlerContext, type JobAttempt, type VerifiedWebhook, type WebhookJob } from "../../src/index";
import { bullmqQueue, type BullmqQueueOptions, type BullmqWebhookQueue } from "../../src/queues/bullmq";
import { jobIdFor } from "../../src/queues/internal/job-id";
import { redisAvailable } from "../helpers/services";
import { connection, eventBody, scheme } from "./fixtures/bullmq-env";

describe("hookguard/bullmq", async () => {
  const ready = await redisAvailable();
  const run = randomBytes(4).toString("hex");
  const prefix = `hgtest-bullmq-${run}`;
  const opened: BullmqWebhookQueue[] = [];
  let n = 0;

  /** A queue on a name no other test (or test run) uses; obliterated after the test. */
  function makeQueue(options: Partial<BullmqQueueOptions> = {}, name = `q-${run}-${++n}`): BullmqWebhookQueue {
    const q = bullmqQueue({ connection: connection(), prefix, name, backoff: { type: "fixed", delay: 20 }, drainTimeoutMs: 10_000, ...options });
    opened.push(q);
    return q;
  }

  async function delivery(id: string, body: string | Uint8Array = eventBody(id)): Promise<{ body: string | Uint8Array; headers: Record<string, string> }> {
    return { body, headers: await signWebhook(body, scheme) };
  }

  afterEach(async () => {
    const queues = opened.splice(0);
    for (const q of queues) await q.close();
    // Obliterate through a fresh handle: the closed ones cannot talk to Redis any more.
    for (const name of new Set(queues.map((q) => q.queue.name))) {
      const cleaner = bullmqQueue({ connection: connection(), prefix, name, worker: false });
      await cleaner.queue.obliterate({ force: true });
      await cleaner.close();
    }
  });

  afterAll(async () => {
    if (!ready) return;
    const redis = new Redis(connection());
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it.skipIf(!ready)("a worker gets the event exactly as it was verified: Buffer body, Date, payload, context", async () => {
    const queue = makeQueue();
    const receiver = createWebhookReceiver({ scheme, background: { queue } });
    const seen: { event: VerifiedWebhook<unknown>; ctx: HandlerContext }[] = [];
    receiver.on("order.paid", (event, ctx) => {
      seen.push({ event, ctx });
    });
    const id = `evt_exact_${run}`;
    // -0 and 1e400 (Infinity once parsed) are what plain JSON would not carry back.
    const body = Buffer.from(`{"id":"${id}","type":"order.paid","data":{"name":"Zoë 🚀","n":-0,"big":1e400}}`);
    const request = await delivery(id, body);
    const verified = await verifyWebhook(request, scheme);
    expect(await receiver.receive(request)).toMatchObject({ status: 202 });
    await receiver.drain();

    expect(seen).toHaveLength(1);
    const { event, ctx } = seen[0]!;
    expect(event).toStrictEqual(verified);
    expect(Buffer.isBuffer(event.rawBody)).toBe(true);
    expect(event.timestamp).toBeInstanceOf(Date);
    expect(Object.is((event.payload as { data: { n: number } }).data.n, -0)).toBe(true);
    expect((event.payload as { data: { big: number } }).data.big).toBe(Infinity);
    expect(ctx).toMatchObject({ key: `stripe:${id}`, attempt: 1, background: true, stale: false });
    // The job id is the idempotency key, readable in a dashboard.
    expect((await queue.queue.getJobs(["completed"])).map((j) => j.id)).toEqual([`hg_stripe%3A${id}`]);
  });

  it.skipIf(!ready)("a string body, a form payload with a null prototype, and the job's version and stale flag travel exactly", async () => {
    const queue = makeQueue();
    const got: { job: WebhookJob; attempt: JobAttempt }[] = [];
    queue.process(async (job, attempt) => {
      got.push({ job, attempt });
    });
    const form = Object.create(null) as Record<string, unknown>;
    form["$hg"] = "not a tag";
    form["__proto__"] = { polluted: true };
    form.list = ["a", "b"];
    const event: VerifiedWebhook<unknown> = {
      id: "evt_form",
      type: undefined,
      timestamp: new Date(Number.NaN),
      payload: { form, nested: { undef: undefined, nan: Number.NaN, neg: -Infinity, big: 12345678901234567890n, when: new Date(5), bytes: new Uint8Array([0, 255]) }, surrogate: "\ud800x" },
      rawBody: "a=1&b=\ud83d\ude80",
      scheme: "custom",
      secretIndex: 1,
    };
    await queue.enqueue({ key: "custom:evt_form", token: "not-stored", event, version: "2024-06-20", stale: true });
    await queue.drain();

    expect(got).toHaveLength(1);
    expect(got[0]!.attempt).toEqual({ number: 1, final: false });
    const job = got[0]!.job;
    expect(job).toStrictEqual({ key: "custom:evt_form", token: undefined, event, version: "2024-06-20", stale: true });
    const payload = job.event.payload as { form: Record<string, unknown>; nested: { bytes: Uint8Array } };
    expect(Object.getPrototypeOf(payload.form)).toBeNull();
    expect(Object.hasOwn(payload.form, "__proto__")).toBe(true);
    expect(Object.hasOwn(payload.nested, "undef")).toBe(true);
    expect(Buffer.isBuffer(payload.nested.bytes)).toBe(false);
    expect(Number.isNaN(job.event.timestamp!.getTime())).toBe(true);
  });

  it.skipIf(!ready)("an event that cannot be stored faithfully is refused at enqueue: the receiver answers 503 and releases its claim", async () => {
    const queue = makeQueue({ worker: false });
    const custom = hmacScheme({
      name: "custom",
      secret: "s3cret",
      signature: { header: "x-signature" },
      id: { header: "x-id" },
      transformPayload: (payload) => new Map(Object.entries(payload as object)),
    });
    const errors: string[] = [];
    const receiver = createWebhookReceiver({ scheme: custom, background: { queue } });
    receiver.onError((e) => {
      errors.push(`${e.code}: ${e.cause instanceof Error ? e.cause.message : ""}`);
    });
    receiver.onAny(() => {});
    const body = '{"a":1}';
    const headers = await signWebhook(body, custom, { id: "evt_map" });
    expect((await receiver.receive({ body, headers })).status).toBe(503);
    expect(errors[0]).toMatch(/^enqueue_failed: hookguard\/bullmq: job\.event\.payload is a Map, which cannot be stored/);
    // Released, not left in progress: the provider's retry is claimed again (and refused again).
    expect((await receiver.receive({ body, headers })).status).toBe(503);
    expect(await queue.queue.getJobCountByTypes("wait")).toBe(0);
  });

  it.skipIf(!ready)("one job per key: concurrent duplicates, and a duplicate after the job was removed, add nothing", async () => {
    const queue = makeQueue({ worker: false, jobOptions: { removeOnComplete: true } });
    const event = (await verifyWebhook(await delivery(`evt_dup_${run}`), scheme)) as VerifiedWebhook<unknown>;
    await Promise.all(Array.from({ length: 20 }, () => queue.enqueue({ key: `stripe:${event.id}`, token: undefined, event })));
    expect(await queue.queue.getJobCounts("wait", "active", "delayed", "completed")).toEqual({ wait: 1, active: 0, delayed: 0, completed: 0 });

    // A worker on the same queue name runs it once; removeOnComplete deletes the job...
    const runs: string[] = [];
    const worker = makeQueue({}, queue.queue.name);
    worker.process(async (job) => {
      runs.push(job.event.id!);
    });
    await worker.drain();
    expect(runs).toEqual([event.id]);
    expect(await queue.queue.getJob(jobIdFor(`stripe:${event.id}`))).toBeUndefined();
    // ...and the deduplication key still refuses a second job for the same key.
    await queue.enqueue({ key: `stripe:${event.id}`, token: undefined, event });
    await worker.drain();
    expect(runs).toEqual([event.id]);
  });

  it.skipIf(!ready)("dedupeTtlMs: 0 relies on the job id alone: once the job is removed, the same key is a new job", async () => {
    const queue = makeQueue({ dedupeTtlMs: 0, jobOptions: { removeOnComplete: true } });
    const runs: number[] = [];
    queue.process(async () => {
      runs.push(runs.length);
    });
    const event = (await verifyWebhook(await delivery(`evt_nodedupe_${run}`), scheme)) as VerifiedWebhook<unknown>;
    await queue.enqueue({ key: "k:1", token: undefined, event });
    await queue.enqueue({ key: "k:1", token: undefined, event });
    await queue.drain();
    expect(runs).toHaveLength(1);
    await queue.enqueue({ key: "k:1", token: undefined, event });
    await queue.drain();
    expect(runs).toHaveLength(2);
  });

  it.skipIf(!ready)("keys that differ only where BullMQ or Redis would mangle them are different jobs", async () => {
    const queue = makeQueue({ worker: false });
    const event = (await verifyWebhook(await delivery(`evt_keys_${run}`), scheme)) as VerifiedWebhook<unknown>;
    const keys = ["a:b", "a%3Ab", "a%b", "123", "-1", "", "x\ud800", "x\ud801", "x\udc00", "x\ufffd", "😀:😀", "a b\n"];
    for (const key of keys) await queue.enqueue({ key, token: undefined, event });
    expect(await queue.queue.getJobCountByTypes("wait")).toBe(keys.length);
    const ids = (await queue.queue.getJobs(["wait"])).map((j) => j.id);
    expect(new Set(ids).size).toBe(keys.length);
    expect(ids.every((id) => id !== undefined && !id.includes(":"))).toBe(true);
  });

  it.skipIf(!ready)("events without an id (missingId: \"process\") get BullMQ's own ids: every delivery runs", async () => {
    const queue = makeQueue();
    const noId = hmacScheme({ name: "noid", secret: "s3cret", signature: { header: "x-signature" } });
    const receiver = createWebhookReceiver({ scheme: noId, missingId: "process", background: { queue } });
    const keys: (string | undefined)[] = [];
    receiver.onAny((_event, ctx) => {
      keys.push(ctx.key);
    });
    const body = '{"hello":"world"}';
    const headers = await signWebhook(body, noId);
    expect((await receiver.receive({ body, headers })).status).toBe(202);
    expect((await receiver.receive({ body, headers })).status).toBe(202);
    await receiver.drain();
    expect(keys).toEqual([undefined, undefined]);
    const ids = (await queue.queue.getJobs(["completed"])).map((j) => j.id!);
    expect(ids).toHaveLength(2);
    expect(ids.every((id) => /^\d+$/.test(id))).toBe(true);
  });

  it.skipIf(!ready)("retries with backoff: attempt numbers count up, the handler succeeds on the third", async () => {
    const queue = makeQueue({ attempts: 4 });
    const receiver = createWebhookReceiver({ scheme, background: { queue, onDeadLetter: () => expect.fail("dead-lettered") } });
    receiver.onError(() => {});
    const attempts: number[] = [];
    receiver.on("order.paid", (_event, ctx) => {
      attempts.push(ctx.attempt);
      if (attempts.length < 3) throw new Error(`flaky ${attempts.length}`);
    });
    expect((await receiver.receive(await delivery(`evt_retry_${run}`))).status).toBe(202);
    await receiver.drain();
    expect(attempts).toEqual([1, 2, 3]);
    const [job] = await queue.queue.getJobs(["completed"]);
    expect(job?.attemptsMade).toBe(3);
  });

  it.skipIf(!ready)("every attempt fails: onDeadLetter gets the event and the last error once, the job stays in the failed set", async () => {
    const queue = makeQueue({ attempts: 3 });
    const dead: { id: string | undefined; error: unknown }[] = [];
    const receiver = createWebhookReceiver({ scheme, background: { queue, onDeadLetter: (event, error) => void dead.push({ id: event.id, error }) } });
    const reported: string[] = [];
    receiver.onError((e) => {
      reported.push(e.message);
    });
    const attempts: number[] = [];
    receiver.on("order.paid", (_event, ctx) => {
      attempts.push(ctx.attempt);
      throw new Error(`down ${ctx.attempt}`);
    });
    const id = `evt_dead_${run}`;
    expect((await receiver.receive(await delivery(id))).status).toBe(202);
    await receiver.drain();
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.id).toBe(id);
    expect((dead[0]!.error as Error).message).toBe("down 3");
    expect(reported.at(-1)).toMatch(/attempt 3, the last/);
    const [failed] = await queue.queue.getJobs(["failed"]);
    expect(failed?.id).toBe(jobIdFor(`stripe:${id}`));
    expect(failed?.failedReason).toBe("down 3");
    // A duplicate delivery is still a duplicate: the queue owns the event since it was stored.
    expect((await receiver.receive(await delivery(id))).status).toBe(200);
  });

  it.skipIf(!ready)("a receive-only instance stores jobs; a worker-only instance of the same receiver runs them", async () => {
    const name = `q-${run}-split`;
    const front = makeQueue({ worker: false }, name);
    const back = makeQueue({}, name);
    const frontRuns: string[] = [];
    const backRuns: string[] = [];
    const receiving = createWebhookReceiver({ scheme, background: { queue: front } });
    receiving.on("order.paid", (e) => void frontRuns.push(e.id!));
    const working = createWebhookReceiver({ scheme, background: { queue: back } });
    working.on("order.paid", (e) => void backRuns.push(e.id!));
    expect(front.worker).toBeUndefined();

    const ids = Array.from({ length: 10 }, (_, i) => `evt_split_${run}_${i}`);
    for (const id of ids) expect((await receiving.receive(await delivery(id))).status).toBe(202);
    await receiving.drain(); // the whole BullMQ queue, whichever process runs it
    expect(frontRuns).toEqual([]);
    expect(backRuns.sort()).toEqual([...ids].sort());
  });

  it.skipIf(!ready)("an ioredis instance serves both roles; close() leaves it open", async () => {
    const redis = new Redis(connection()); // maxRetriesPerRequest: 20, which BullMQ refuses for workers
    try {
      const queue = makeQueue({ connection: redis });
      const receiver = createWebhookReceiver({ scheme, background: { queue } });
      const runs: string[] = [];
      receiver.on("order.paid", (e) => void runs.push(e.id!));
      const id = `evt_instance_${run}`;
      expect((await receiver.receive(await delivery(id))).status).toBe(202);
      await receiver.drain();
      expect(runs).toEqual([id]);
      await queue.close();
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it.skipIf(!ready)("Redis unreachable: the receiver answers 503 within enqueueTimeoutMs and releases its claim", async () => {
    // A port that accepts nothing: a listener we close straight away.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const logged: string[] = [];
    const queue = bullmqQueue({ connection: { host: "127.0.0.1", port, retryStrategy: () => 200 }, name: `q-${run}-down`, worker: false, enqueueTimeoutMs: 300, logger: { error: (m) => void logged.push(m) } });
    const receiver = createWebhookReceiver({ scheme, background: { queue } });
    const codes: string[] = [];
    receiver.onError((e) => {
      codes.push(e.code);
    });
    receiver.on("order.paid", () => {});
    const request = await delivery(`evt_down_${run}`);
    const started = Date.now();
    const first = await receiver.receive(request);
    expect(first.status).toBe(503);
    expect(JSON.parse(first.body)).toMatchObject({ error: "enqueue_failed" });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(codes).toEqual(["enqueue_failed"]);
    // Not 409: the claim was released, so the provider's retry is handled once Redis is back.
    expect((await receiver.receive(request)).status).toBe(503);
    expect(logged.some((m) => m.includes("ECONNREFUSED"))).toBe(true);
    await queue.close();
  });

  it.skipIf(!ready)("drain() rejects after drainTimeoutMs when no worker takes the jobs; close() is idempotent and stops enqueue", async () => {
    const queue = makeQueue({ worker: false, drainTimeoutMs: 300 });
    const event = (await verifyWebhook(await delivery(`evt_drain_${run}`), scheme)) as VerifiedWebhook<unknown>;
    await queue.enqueue({ key: "stripe:drain", token: undefined, event });
    await expect(queue.drain()).rejects.toThrow(/still has 1 wait job\(s\) after 300 ms/);
    await queue.close();
    await queue.close();
    await expect(queue.enqueue({ key: "stripe:drain2", token: undefined, event })).rejects.toThrow(/is closed/);

    // A worker closed before its first turn of the event loop never starts.
    const early = makeQueue();
    createWebhookReceiver({ scheme, background: { queue: early } }).on("order.paid", () => {});
    expect(early.worker).toBeDefined();
    await early.close();
    expect(early.worker!.isRunning()).toBe(false);
  });

  it("refuses wrong options with messages that name them", () => {
    expect(() => bullmqQueue({} as BullmqQueueOptions)).toThrow(/needs `connection`/);
    expect(() => bullmqQueue({ queue: {} as never })).toThrow(/must be a BullMQ Queue/);
    for (const [option, value] of [
      ["attempts", 0],
      ["concurrency", 1.5],
      ["dedupeTtlMs", -1],
      ["enqueueTimeoutMs", 0],
      ["drainTimeoutMs", Number.NaN],
    ] as const) {
      expect(() => bullmqQueue({ connection: { lazyConnect: true }, [option]: value }), option).toThrow(new RegExp(`bullmqQueue\\(\\{ ${option} \\}\\) must be an integer`));
    }
    expect(() => bullmqQueue({ connection: { lazyConnect: true }, name: "a:b" })).toThrow(/without ":"/);
  });
});
