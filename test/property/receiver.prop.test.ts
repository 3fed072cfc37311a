// Exactly-once dispatch under every interleaving fast-check's scheduler can find: store
// operations and handler steps resolve in an order the scheduler picks. These are not
// verification properties: they run HOOKGUARD_FC_RUNS times, else 200, in CI too.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWebhookReceiver, memoryStore, signWebhook, stripe, type IdempotencyStore, type WebhookResponse } from "../../src/index";
import { propTimeout } from "./support";

const runs = Number(process.env.HOOKGUARD_FC_RUNS || 200);
const scheme = stripe({ secret: "whsec_prop_receiver" });
const body = JSON.stringify({ id: "evt_prop", type: "invoice.paid" });
// Signed once for a fixed instant, which every receiver below takes as its clock: against
// the real clock, a run longer than Stripe's 300 s window (HOOKGUARD_FC_RUNS raised) would
// start failing with timestamp_too_old.
const T = 1_700_000_000_000;
const clock = () => T;
const headersPromise = signWebhook(body, scheme, { timestamp: T });

function scheduledStore(s: fc.Scheduler, inner: IdempotencyStore): IdempotencyStore {
  return {
    claim: s.scheduleFunction(async (k: string, o: { leaseMs: number }) => inner.claim(k, o)),
    complete: s.scheduleFunction(async (k: string, t: string, o: { ttlMs: number }) => inner.complete(k, t, o)),
    release: s.scheduleFunction(async (k: string, t: string) => inner.release(k, t)),
  };
}

function statusOf(r: WebhookResponse): string {
  return r.status === 200 ? (JSON.parse(r.body) as { status: string }).status : String(r.status);
}

describe("receiver exactly-once (fast-check scheduler)", () => {
  it("N concurrent copies of one delivery run the handler exactly once", async () => {
    const headers = await headersPromise;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 12 }), async (s, n) => {
        const receiver = createWebhookReceiver({ scheme, clock, store: scheduledStore(s, memoryStore()) });
        let handled = 0;
        receiver.on("invoice.paid", async () => {
          handled++;
          await s.schedule(Promise.resolve("handler step"));
        });
        const all = Promise.all(Array.from({ length: n }, () => receiver.receive({ body, headers })));
        const results = await s.waitFor(all);
        expect(handled).toBe(1);
        const statuses = results.map(statusOf);
        expect(statuses.filter((x) => x === "processed")).toHaveLength(1);
        for (const st of statuses) expect(["processed", "duplicate", "409"]).toContain(st);
      }),
      { numRuns: runs },
    );
  }, propTimeout(0.78));

  it("a handler that fails on its first attempt is released, and a retry runs it once more and completes", async () => {
    const headers = await headersPromise;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 8 }), async (s, n) => {
        const receiver = createWebhookReceiver({ scheme, clock, store: scheduledStore(s, memoryStore()) }).onError(() => {});
        let attempts = 0;
        let succeeded = 0;
        receiver.on("invoice.paid", async () => {
          attempts++;
          const mine = attempts;
          await s.schedule(Promise.resolve("handler step"));
          if (mine === 1) throw new Error("first attempt fails");
          succeeded++;
        });
        const results = await s.waitFor(Promise.all(Array.from({ length: n }, () => receiver.receive({ body, headers }))));
        expect(results.map((r) => r.status)).toContain(500);
        expect(succeeded).toBeLessThanOrEqual(1);
        // The provider retries until it gets a 2xx: that retry runs the handler if no copy did.
        let retry: WebhookResponse;
        do retry = await s.waitFor(receiver.receive({ body, headers }));
        while (retry.status !== 200);
        expect(succeeded).toBe(1);
        expect(attempts).toBe(2);
        expect(statusOf(await s.waitFor(receiver.receive({ body, headers })))).toBe("duplicate");
      }),
      { numRuns: runs },
    );
  }, propTimeout(0.39));

  it("a lease that expires (a crashed worker) lets a later delivery process it, and the stale token cannot complete", async () => {
    const headers = await headersPromise;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 60_000 }), async (leaseMs, extra) => {
        let now = 1_700_000_000_000;
        const store = memoryStore({ now: () => now });
        const receiver = createWebhookReceiver({ scheme, clock, store, leaseMs });
        let handled = 0;
        receiver.on("invoice.paid", () => void handled++);
        const crashed = await store.claim("stripe:evt_prop", { leaseMs });
        if (crashed.status !== "claimed") throw new Error("setup: expected a claim");
        expect((await receiver.receive({ body, headers })).status).toBe(409);
        now += leaseMs + extra;
        expect((await receiver.receive({ body, headers })).status).toBe(200);
        expect(handled).toBe(1);
        expect(await store.complete("stripe:evt_prop", crashed.token, { ttlMs: 60_000 })).toBe(false);
        expect(await store.release("stripe:evt_prop", crashed.token)).toBe(false);
        expect(statusOf(await receiver.receive({ body, headers }))).toBe("duplicate");
      }),
      { numRuns: runs },
    );
  }, propTimeout(0.15));
});
