import { describe, expect, expectTypeOf, it, vi } from "vitest";
import {
  createWebhookReceiver,
  github,
  inProcessQueue,
  memoryStore,
  signWebhook,
  slack,
  stripe,
  type IdempotencyStore,
  type JobProcessor,
  type WebhookError,
  type WebhookRequest,
} from "../../src/index";

const secret = "whsec_receiver_test";
const scheme = stripe({ secret });

async function delivery(event: Record<string, unknown>, opts: { scheme?: typeof scheme; tamper?: boolean } = {}): Promise<WebhookRequest> {
  const body = JSON.stringify(event);
  const headers = await signWebhook(body, opts.scheme ?? scheme);
  return { body: Buffer.from(opts.tamper ? body.replace("}", ',"x":1}') : body), headers };
}

/** A memory store that counts every call, to prove which paths never touch the store. */
function countingStore(inner: IdempotencyStore = memoryStore()) {
  const calls = { claim: 0, complete: 0, release: 0 };
  const store: IdempotencyStore = {
    claim: (k, o) => (calls.claim++, inner.claim(k, o)),
    complete: (k, t, o) => (calls.complete++, inner.complete(k, t, o)),
    release: (k, t) => (calls.release++, inner.release(k, t)),
  };
  return { store, calls };
}

/** `inner` with its `complete` replaced: a store whose completions fail, or lose their replies. */
function completingWith(inner: IdempotencyStore, complete: IdempotencyStore["complete"]): IdempotencyStore {
  return { claim: (k, o) => inner.claim(k, o), complete, release: (k, t) => inner.release(k, t) };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("createWebhookReceiver", () => {
  it("runs the handler once for a delivery and acknowledges its duplicate without running it again", async () => {
    const receiver = createWebhookReceiver({ scheme });
    const seen: string[] = [];
    receiver.on("invoice.paid", (e) => void seen.push(e.id!));
    const req = await delivery({ id: "evt_1", type: "invoice.paid" });
    const first = await receiver.receive(req);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ status: "processed" });
    const second = await receiver.receive(req);
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ status: "duplicate" });
    expect(seen).toEqual(["evt_1"]);
    // JSON is UTF-8 by definition: application/json has no charset parameter (RFC 8259 §11).
    for (const answer of [first, second]) expect(answer.headers).toEqual({ "content-type": "application/json" });
  });

  it("answers a forged request with its 4xx without touching the store or running a handler", async () => {
    const { store, calls } = countingStore();
    const handler = vi.fn();
    const receiver = createWebhookReceiver({ scheme, store }).onAny(handler);
    const tampered = await receiver.receive(await delivery({ id: "evt_2", type: "x" }, { tamper: true }));
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.body).error).toBe("signature_mismatch");
    expect(tampered.headers["content-type"]).toBe("application/json");
    const missing = await receiver.receive({ body: "{}", headers: {} });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).error).toBe("missing_header");
    const old = await receiver.receive({ ...(await delivery({ id: "evt_3", type: "x" })) });
    expect(old.status).toBe(200);
    const stale = createWebhookReceiver({ scheme, store, clock: () => Date.now() + 3_600_000 }).onAny(handler);
    const staleRes = await stale.receive(await delivery({ id: "evt_4", type: "x" }));
    expect(staleRes.status).toBe(401);
    expect(JSON.parse(staleRes.body).error).toBe("timestamp_too_old");
    expect(calls).toEqual({ claim: 1, complete: 1, release: 0 });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("releases the claim when a handler throws, so the retry runs it again and completes", async () => {
    const errors: WebhookError[] = [];
    const receiver = createWebhookReceiver({ scheme }).onError((e) => void errors.push(e));
    let attempts = 0;
    receiver.on("invoice.paid", () => {
      attempts++;
      if (attempts === 1) throw new Error("database hiccup");
    });
    const req = await delivery({ id: "evt_retry", type: "invoice.paid" });
    const first = await receiver.receive(req);
    expect(first.status).toBe(500);
    expect(JSON.parse(first.body).error).toBe("handler_failed");
    expect(first.body).not.toContain("database hiccup");
    expect((await receiver.receive(req)).status).toBe(200);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    expect(attempts).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(["handler_failed"]);
    expect((errors[0]!.cause as Error).message).toBe("database hiccup");
  });

  it("answers 409 to a concurrent copy while the first is still running, and runs the handler once", async () => {
    const receiver = createWebhookReceiver({ scheme });
    const gate = deferred();
    let runs = 0;
    receiver.on("invoice.paid", async () => {
      runs++;
      await gate.promise;
    });
    const req = await delivery({ id: "evt_conc", type: "invoice.paid" });
    const first = receiver.receive(req);
    const copies = await Promise.all(Array.from({ length: 10 }, () => receiver.receive(req)));
    expect(copies.map((r) => r.status)).toEqual(Array(10).fill(409));
    expect(copies[0]!.headers["retry-after"]).toBe("5");
    gate.resolve();
    expect((await first).status).toBe(200);
    expect(runs).toBe(1);
  });

  it("fails closed with 503 when the store is unreachable, and never runs the handler", async () => {
    const handler = vi.fn();
    const errors: WebhookError[] = [];
    const down: IdempotencyStore = {
      claim: () => Promise.reject(new Error("ECONNREFUSED")),
      complete: () => Promise.reject(new Error("ECONNREFUSED")),
      release: () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const receiver = createWebhookReceiver({ scheme, store: down }).onAny(handler).onError((e) => void errors.push(e));
    const res = await receiver.receive(await delivery({ id: "evt_down", type: "x" }));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error).toBe("store_unavailable");
    expect(handler).not.toHaveBeenCalled();
    expect(errors[0]!.code).toBe("store_unavailable");
  });

  it("retries marking the event done through a store blip, so a later duplicate is not run again", async () => {
    // The chaos suite's finding: answering 200 with the event unmarked let the next
    // duplicate, once the lease expired, run the handlers a second time.
    const inner = memoryStore();
    let downUntil = 0;
    const store = completingWith(inner, (k, t, o) => (Date.now() < downUntil ? Promise.reject(new Error("ECONNRESET")) : inner.complete(k, t, o)));
    const runs = vi.fn();
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 100 }).onAny(runs).onError(() => {});
    const req = await delivery({ id: "evt_blip", type: "x" });
    downUntil = Date.now() + 30;
    expect((await receiver.receive(req)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    const again = await receiver.receive(req);
    expect(JSON.parse(again.body).status).toBe("duplicate");
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it("reports no lost lease when a retried completion finds that the failed attempt had committed", async () => {
    // A dropped connection: the store marked the event done, but the answer never came, so
    // the retry's compare-and-set finds no lease under its token.
    const inner = memoryStore();
    let lostReplies = 1;
    const store = completingWith(inner, async (k, t, o) => {
      const done = await inner.complete(k, t, o);
      if (lostReplies-- > 0) throw new Error("ECONNRESET after commit");
      return done;
    });
    const runs = vi.fn();
    const errors: string[] = [];
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 5_000 }).onAny(runs).onError((e) => void errors.push(e.code));
    const req = await delivery({ id: "evt_lost_reply", type: "x" });
    expect((await receiver.receive(req)).status).toBe(200);
    expect(errors).toEqual([]);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it("marks the event done under a new claim when its lease ran out during a store outage, and reports the lost lease", async () => {
    let now = 0;
    const inner = memoryStore({ now: () => now });
    let failures = 1;
    const store = completingWith(inner, async (k, t, o) => {
      if (failures-- > 0) {
        // The outage lasts past the lease (by the store's clock), and nothing committed.
        now += 10_000;
        throw new Error("ECONNRESET");
      }
      return inner.complete(k, t, o);
    });
    const runs = vi.fn();
    const errors: string[] = [];
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 5_000 }).onAny(runs).onError((e) => void errors.push(e.code));
    const req = await delivery({ id: "evt_outage", type: "x" });
    expect((await receiver.receive(req)).status).toBe(200);
    expect(errors).toEqual(["lease_lost"]);
    // The handlers ran, so the event is marked done: its duplicate is not run again.
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it("still acknowledges work that succeeded when marking it done fails for the whole lease, and reports it", async () => {
    const inner = memoryStore();
    const errors: string[] = [];
    const store = completingWith(inner, () => Promise.reject(new Error("lost connection")));
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 200 }).onAny(() => {}).onError((e) => void errors.push(e.code));
    const started = Date.now();
    expect((await receiver.receive(await delivery({ id: "evt_c", type: "x" }))).status).toBe(200);
    // It kept trying while the lease still protected the claim, and no longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(errors).toEqual(["store_unavailable"]);
  });

  it("acknowledges an event nobody listens to without claiming it (status configurable)", async () => {
    const { store, calls } = countingStore();
    const receiver = createWebhookReceiver({ scheme, store });
    receiver.on("invoice.paid", () => {});
    const res = await receiver.receive(await delivery({ id: "evt_u", type: "customer.created" }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).status).toBe("ignored");
    expect(calls.claim).toBe(0);
    const strict = createWebhookReceiver({ scheme, store, unhandledStatus: 422 });
    expect((await strict.receive(await delivery({ id: "evt_u2", type: "customer.created" }))).status).toBe(422);
  });

  it("rejects or processes events without an id, as configured", async () => {
    const gh = github({ secret: "gh" });
    const body = JSON.stringify({ action: "opened" });
    const headers = await signWebhook(body, gh, { type: "issues" });
    delete (headers as Record<string, string | undefined>)["x-github-delivery"];
    const runs = vi.fn();
    const rejecting = createWebhookReceiver({ scheme: gh }).on("issues", runs);
    const res = await rejecting.receive({ body, headers });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toBe("missing_event_id");
    const processing = createWebhookReceiver({ scheme: gh, missingId: "process" }).on("issues", runs);
    expect((await processing.receive({ body, headers })).status).toBe(200);
    expect((await processing.receive({ body, headers })).status).toBe(200);
    expect(runs).toHaveBeenCalledTimes(2);
  });

  it("namespaces keys per receiver so two providers' ids never collide in one store", async () => {
    const store = memoryStore();
    const gh = github({ secret: "gh" });
    const a = vi.fn();
    const b = vi.fn();
    const stripeReceiver = createWebhookReceiver({ scheme, store }).onAny(a);
    const githubReceiver = createWebhookReceiver({ scheme: gh, store }).onAny(b);
    await stripeReceiver.receive(await delivery({ id: "same-id", type: "x" }));
    const body = "{}";
    await githubReceiver.receive({ body, headers: await signWebhook(body, gh, { id: "same-id", type: "push" }) });
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(1);
  });

  it("deduplicates on a custom idempotency key", async () => {
    const receiver = createWebhookReceiver({ scheme, idempotencyKey: (e) => (e.payload as { data: { object: string } }).data.object });
    const runs = vi.fn();
    receiver.onAny(runs);
    await receiver.receive(await delivery({ id: "evt_a", type: "x", data: { object: "in_1" } }));
    const dup = await receiver.receive(await delivery({ id: "evt_b", type: "x", data: { object: "in_1" } }));
    expect(JSON.parse(dup.body).status).toBe("duplicate");
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it("routes by exact type, type list, prefix pattern and onAny, in registration order", async () => {
    const order: string[] = [];
    const receiver = createWebhookReceiver({ scheme })
      .on("invoice.paid", () => void order.push("exact"))
      .on(["invoice.paid", "invoice.voided"], () => void order.push("list"))
      .on("invoice.*", () => void order.push("prefix"))
      .on("customer.*", () => void order.push("other-prefix"))
      .onAny(() => void order.push("any"));
    await receiver.receive(await delivery({ id: "evt_r1", type: "invoice.paid" }));
    expect(order).toEqual(["exact", "list", "prefix", "any"]);
    order.length = 0;
    await receiver.receive(await delivery({ id: "evt_r2", type: "invoice.voided" }));
    expect(order).toEqual(["list", "prefix", "any"]);
  });

  it("types handlers from an event union or an event map", () => {
    type Paid = { id: string; type: "invoice.paid"; data: { amount: number } };
    type Created = { id: string; type: "customer.created"; data: { email: string } };
    const byUnion = createWebhookReceiver<Paid | Created>({ scheme });
    byUnion.on("invoice.paid", (e) => {
      expectTypeOf(e.payload.data.amount).toEqualTypeOf<number>();
      expectTypeOf(e.type).toEqualTypeOf<"invoice.paid">();
    });
    byUnion.on("customer.*", (e) => expectTypeOf(e.payload.data.email).toEqualTypeOf<string>());
    // @ts-expect-error: not an event type of the union
    byUnion.on("invoice.nope", () => {});
    const byMap = createWebhookReceiver<{ push: { ref: string }; "issues.opened": { number: number } }>({ scheme });
    byMap.on("push", (e) => expectTypeOf(e.payload.ref).toEqualTypeOf<string>());
  });

  it("answers Slack's url_verification handshake only after verification", async () => {
    const sl = slack({ secret: "slack-signing-secret" });
    const receiver = createWebhookReceiver({ scheme: sl });
    const body = JSON.stringify({ type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", token: "x" });
    const ok = await receiver.receive({ body, headers: await signWebhook(body, sl) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    const forged = await receiver.receive({ body, headers: { "x-slack-signature": "v0=" + "0".repeat(64), "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)) } });
    expect(forged.status).toBe(401);
    expect(forged.body).not.toContain("3eZbrw1a");
  });

  it("lets a later delivery process an event whose claimer crashed, once the lease expires", async () => {
    let now = 1_000_000;
    const store = memoryStore({ now: () => now });
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 30_000 });
    const runs = vi.fn();
    receiver.onAny(runs);
    // A worker claimed the event, then died without completing or releasing.
    const crashed = await store.claim("stripe:evt_crash", { leaseMs: 30_000 });
    expect(crashed.status).toBe("claimed");
    const req = await delivery({ id: "evt_crash", type: "x" });
    expect((await receiver.receive(req)).status).toBe(409);
    now += 30_001;
    expect((await receiver.receive(req)).status).toBe(200);
    expect(runs).toHaveBeenCalledTimes(1);
    // The crashed worker's token is fenced off: it cannot mark the event done or free it.
    if (crashed.status === "claimed") {
      expect(await store.complete("stripe:evt_crash", crashed.token, { ttlMs: 1000 })).toBe(false);
      expect(await store.release("stripe:evt_crash", crashed.token)).toBe(false);
    }
  });

  it("reports a lost lease when handlers outlive it", async () => {
    let now = 0;
    const store = memoryStore({ now: () => now });
    const errors: string[] = [];
    const receiver = createWebhookReceiver({ scheme, store, leaseMs: 1000 }).onError((e) => void errors.push(e.code));
    receiver.onAny(() => {
      now += 5000;
    });
    expect((await receiver.receive(await delivery({ id: "evt_slow", type: "x" }))).status).toBe(200);
    expect(errors).toEqual(["lease_lost"]);
  });

  it("keeps the lease of handlers that ran synchronously past it on the real clock: nothing else could claim the event meanwhile", async () => {
    // memoryStore on Date.now: the claim and the completion share the receiver's one clock
    // reading when nothing else ran in between, so a long synchronous handler is not a lost lease.
    const errors: string[] = [];
    const runs = vi.fn(() => {
      const until = Date.now() + 30;
      while (Date.now() < until);
    });
    const receiver = createWebhookReceiver({ scheme, store: memoryStore(), leaseMs: 5 }).onAny(runs).onError((e) => void errors.push(e.code));
    const req = await delivery({ id: "evt_sync_slow", type: "x" });
    expect((await receiver.receive(req)).status).toBe(200);
    expect(errors).toEqual([]);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it("reports a lost lease on the real clock when an asynchronous handler outlives it", async () => {
    const errors: string[] = [];
    const receiver = createWebhookReceiver({ scheme, store: memoryStore(), leaseMs: 5 })
      .onAny(() => new Promise<void>((resolve) => setTimeout(resolve, 30)))
      .onError((e) => void errors.push(e.code));
    expect((await receiver.receive(await delivery({ id: "evt_async_slow", type: "x" }))).status).toBe(200);
    expect(errors).toEqual(["lease_lost"]);
  });

  it("validates its options with TypeErrors that name them", () => {
    expect(() => createWebhookReceiver({} as never)).toThrow(/scheme/);
    expect(() => createWebhookReceiver({ scheme, leaseMs: 0 })).toThrow(/leaseMs/);
    expect(() => createWebhookReceiver({ scheme, ttlMs: -1 })).toThrow(/ttlMs/);
    expect(() => createWebhookReceiver({ scheme, missingId: "skip" as never })).toThrow(/missingId/);
    expect(() => createWebhookReceiver({ scheme }).on("x", undefined as never)).toThrow(TypeError);
  });
});

describe("background mode", () => {
  it("answers 202 once queued, runs the handler after, and deduplicates meanwhile", async () => {
    const gate = deferred();
    const receiver = createWebhookReceiver({ scheme, background: true });
    const runs = vi.fn(async () => gate.promise);
    receiver.on("invoice.paid", runs);
    const req = await delivery({ id: "evt_bg", type: "invoice.paid" });
    const res = await receiver.receive(req);
    expect(res.status).toBe(202);
    expect((await receiver.receive(req)).status).toBe(409);
    gate.resolve();
    await receiver.drain();
    expect(runs).toHaveBeenCalledTimes(1);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
  });

  it("retries a failing handler with backoff, then completes", async () => {
    const queue = inProcessQueue({ retries: 3, initialDelayMs: 5, maxDelayMs: 20 });
    const receiver = createWebhookReceiver({ scheme, background: { queue } }).onError(() => {});
    const attempts: number[] = [];
    receiver.onAny((_e, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error("flaky");
    });
    const req = await delivery({ id: "evt_flaky", type: "x" });
    expect((await receiver.receive(req)).status).toBe(202);
    await receiver.drain();
    expect(attempts).toEqual([1, 2, 3]);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
  });

  it("dead-letters an event whose every attempt failed, and releases its claim", async () => {
    const dead: string[] = [];
    const queue = inProcessQueue({ retries: 2, initialDelayMs: 1, maxDelayMs: 2 });
    const receiver = createWebhookReceiver({ scheme, background: { queue, onDeadLetter: (e) => void dead.push(e.id!) } }).onError(() => {});
    let runs = 0;
    receiver.onAny(() => {
      runs++;
      throw new Error("always");
    });
    const req = await delivery({ id: "evt_dead", type: "x" });
    await receiver.receive(req);
    await receiver.drain();
    expect(runs).toBe(3);
    expect(dead).toEqual(["evt_dead"]);
    // Released: a manual redelivery is accepted again rather than answered as a duplicate.
    expect((await receiver.receive(req)).status).toBe(202);
    await receiver.drain();
  });

  it("runs at most `concurrency` jobs at once", async () => {
    const queue = inProcessQueue({ concurrency: 2 });
    const receiver = createWebhookReceiver({ scheme, background: { queue } });
    let active = 0;
    let peak = 0;
    receiver.onAny(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    });
    for (let i = 0; i < 8; i++) expect((await receiver.receive(await delivery({ id: `evt_c${i}`, type: "x" }))).status).toBe(202);
    await receiver.drain();
    expect(peak).toBe(2);
  });

  it("releases the claim and answers 503 when the queue refuses the job", async () => {
    const store = memoryStore();
    const receiver = createWebhookReceiver({
      scheme,
      store,
      background: { queue: { enqueue: () => Promise.reject(new Error("redis down")), process: () => {} } },
    }).onError(() => {});
    receiver.onAny(() => {});
    const res = await receiver.receive(await delivery({ id: "evt_q", type: "x" }));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error).toBe("enqueue_failed");
    expect((await store.claim("stripe:evt_q", { leaseMs: 1000 })).status).toBe("claimed");
  });
});

describe("background mode with a durable queue", () => {
  it("marks the event completed once the queue stored it, so duplicates are answered at once", async () => {
    const stored: { key: string | undefined; token: string | undefined }[] = [];
    const receiver = createWebhookReceiver({
      scheme,
      background: { queue: { durable: true, enqueue: async (job) => void stored.push({ key: job.key, token: job.token }), process: () => {} } },
    });
    receiver.onAny(() => {});
    const req = await delivery({ id: "evt_durable", type: "x" });
    expect((await receiver.receive(req)).status).toBe(202);
    expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    expect(stored).toEqual([{ key: "stripe:evt_durable", token: undefined }]);
  });
});

describe("a worker without the event's handler", () => {
  it("fails the attempt (to be retried or dead-lettered) instead of completing the job unhandled", async () => {
    let processor: JobProcessor | undefined;
    const dead: string[] = [];
    const receiver = createWebhookReceiver({
      scheme,
      background: { queue: { durable: true, enqueue: async () => {}, process: (p) => void (processor = p) }, onDeadLetter: (e) => void dead.push(e.id!) },
    }).onError(() => {});
    receiver.on("invoice.paid", () => {});
    const event = { id: "evt_w", type: "invoice.created", timestamp: undefined, payload: {}, rawBody: "{}", scheme: "stripe", secretIndex: 0 };
    await expect(processor!({ key: "stripe:evt_w", token: undefined, event }, { number: 1, final: false })).rejects.toThrow(/no handler/);
    await expect(processor!({ key: "stripe:evt_w", token: undefined, event }, { number: 2, final: true })).rejects.toThrow(/no handler/);
    expect(dead).toEqual(["evt_w"]);
  });
});
