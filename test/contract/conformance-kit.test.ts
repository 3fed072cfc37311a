// The kit itself: it must pass a correct store and name the exact rule a broken one breaks.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ClaimResult, IdempotencyStore } from "../../src/store";
import { memoryStore } from "../../src/stores/memory";
import {
  conformanceChecks,
  runStoreConformance,
  StoreConformanceError,
  StoreConformanceViolation,
  type ConformanceOptions,
} from "../../src/testing/index";

type Flaw =
  /** Reads, awaits a tick, then writes: concurrent claims all see a free key. */
  | "non-atomic-claim"
  /** complete / release ignore the token: any caller can finish anyone's lease. */
  | "no-fencing"
  /** Completed keys never expire. */
  | "ttl-ignored"
  /** Leases never expire: a crashed claimer blocks the key forever. */
  | "leases-never-expire"
  /** complete succeeds on its own lease after it expired (as long as nobody re-claimed). */
  | "complete-after-expiry"
  /** Tokens from a small cycle: they repeat. */
  | "repeating-tokens";

/** A small store with a fake clock, correct unless told which flaws to have. */
function flawedStore(clock: { now: number }, ...flaws: Flaw[]): IdempotencyStore {
  const has = new Set(flaws);
  const entries = new Map<string, { token: string | undefined; expiresAt: number }>();
  let counter = 0;
  const live = (e: { token: string | undefined; expiresAt: number }) =>
    (e.token !== undefined && has.has("leases-never-expire")) || (e.token === undefined && has.has("ttl-ignored")) || e.expiresAt > clock.now;
  return {
    async claim(key, { leaseMs }): Promise<ClaimResult> {
      const e = entries.get(key);
      if (has.has("non-atomic-claim")) await new Promise((r) => setTimeout(r, 0));
      if (e && live(e)) return e.token === undefined ? { status: "completed" } : { status: "in_progress" };
      const token = has.has("repeating-tokens") ? `token-${counter++ % 64}` : randomUUID();
      entries.set(key, { token, expiresAt: clock.now + leaseMs });
      return { status: "claimed", token };
    },
    async complete(key, token, { ttlMs }) {
      const e = entries.get(key);
      if (!e || e.token === undefined) return false;
      if (!has.has("no-fencing") && e.token !== token) return false;
      if (!has.has("complete-after-expiry") && !live(e)) return false;
      entries.set(key, { token: undefined, expiresAt: clock.now + ttlMs });
      return true;
    },
    async release(key, token) {
      const e = entries.get(key);
      if (!e || e.token === undefined) return false;
      if (!has.has("no-fencing") && e.token !== token) return false;
      entries.delete(key);
      return live(e);
    },
  };
}

function fakeTime(): { clock: { now: number }; options: ConformanceOptions } {
  const clock = { now: 0 };
  return {
    clock,
    options: {
      sleep: async (ms) => {
        clock.now += ms;
      },
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<StoreConformanceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreConformanceError);
  return error as StoreConformanceError;
}

describe("conformance kit", () => {
  it("passes a correct store and summarises the checks it ran", async () => {
    const { clock, options } = fakeTime();
    const summary = await runStoreConformance(() => flawedStore(clock), options);
    expect(summary).toEqual({
      passed: conformanceChecks.filter((c) => !c.optional).map((c) => c.id),
      skipped: conformanceChecks.filter((c) => c.optional).map((c) => c.id),
      checks: conformanceChecks.length,
      durationMs: expect.any(Number),
    });
    expect(summary.checks).toBeGreaterThanOrEqual(11);
  });

  it.each([
    ["non-atomic-claim", ["concurrent-claims"]],
    ["no-fencing", ["wrong-token", "release-reclaim", "lease-expiry-fencing"]],
    ["ttl-ignored", ["ttl-expiry"]],
    ["leases-never-expire", ["lease-expiry-fencing", "complete-after-expiry"]],
    ["complete-after-expiry", ["complete-after-expiry"]],
    ["repeating-tokens", ["unique-tokens"]],
  ] as const)("fails a store with the flaw %s, naming exactly the rules %j", async (flaw, rules) => {
    const { clock, options } = fakeTime();
    const error = await failureOf(runStoreConformance(() => flawedStore(clock, flaw), options));
    expect(error.failed).toEqual(rules);
    expect(error.errors.map((v) => v.check)).toEqual(rules);
    for (const v of error.errors) {
      expect(v).toBeInstanceOf(StoreConformanceViolation);
      expect(v.rule).toBe(conformanceChecks.find((c) => c.id === v.check)!.rule);
      expect(error.message).toContain(`[${v.check}] ${v.rule}`);
    }
    expect(error.message).toMatch(new RegExp(`broke ${rules.length} of ${conformanceChecks.length} `));
  });

  it("says what happened, not only which rule broke", async () => {
    const { clock, options } = fakeTime();
    const error = await failureOf(runStoreConformance(() => flawedStore(clock, "non-atomic-claim"), { ...options, concurrency: 20 }));
    expect(error.message).toContain("Of 20 concurrent claims, 20 resolved claimed");
  });

  it("reports a claim result of the wrong shape", async () => {
    const store = memoryStore();
    const broken: IdempotencyStore = {
      claim: async () => ({ status: "claimed" }) as unknown as ClaimResult,
      complete: store.complete,
      release: store.release,
    };
    const error = await failureOf(runStoreConformance(() => broken));
    expect(error.failed).toContain("claim-fresh");
    expect(error.errors[0]!.message).toMatch(/claim resolved \{"status":"claimed"\}, not \{ status: "claimed", token: <non-empty string> \}/);
  });

  it("reports a store that throws, and a factory that throws, as violations with the cause", async () => {
    const down = new Error("connect ECONNREFUSED 127.0.0.1:6379");
    const throwing: IdempotencyStore = {
      claim: () => Promise.reject(down),
      complete: () => Promise.reject(down),
      release: () => Promise.reject(down),
    };
    const error = await failureOf(runStoreConformance(() => throwing));
    // Every required rule fails; the optional watermark checks are skipped (no such method).
    expect(error.failed).toEqual(conformanceChecks.filter((c) => !c.optional).map((c) => c.id));
    expect(error.errors[0]!.message).toContain("The store threw: Error: connect ECONNREFUSED");
    expect(error.errors[0]!.cause).toBe(down);

    const factoryError = await failureOf(
      runStoreConformance(() => {
        throw down;
      }),
    );
    expect(factoryError.errors[0]!.message).toContain("The store factory threw");
  });

  it("runs the optional watermark checks on a store that has advanceWatermark, and fails one that keeps the last value instead of the largest", async () => {
    let now = 0;
    const good = memoryStore({ now: () => now });
    const options = { sleep: async (ms: number) => void (now += ms) };
    const summary = await runStoreConformance(() => good, options);
    expect(summary.skipped).toEqual([]);
    expect(summary.passed).toEqual(conformanceChecks.map((c) => c.id));
    const values = new Map<string, number>();
    const lastWriterWins: IdempotencyStore = {
      claim: (k, o) => good.claim(k, o),
      complete: (k, t, o) => good.complete(k, t, o),
      release: (k, t) => good.release(k, t),
      advanceWatermark: async (k, v) => {
        values.set(k, v);
        return { stale: false, latest: v };
      },
    };
    const error = await failureOf(runStoreConformance(() => lastWriterWins, options));
    expect(error.failed).toEqual(["watermark-order", "watermark-concurrent", "watermark-expiry"]);
  });

  it("runs checks one by one, each rejecting with a violation that names it", async () => {
    const ids = conformanceChecks.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const { clock, options } = fakeTime();
    const check = conformanceChecks.find((c) => c.id === "lease-expiry-fencing")!;
    await check.run(() => flawedStore(clock), options);
    const violation = await check.run(() => flawedStore(clock, "no-fencing"), options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(violation).toBeInstanceOf(StoreConformanceViolation);
    expect(violation).toMatchObject({ check: "lease-expiry-fencing", name: "StoreConformanceViolation" });
    expect((violation as Error).message).toMatch(/^\[lease-expiry-fencing\] Once a lease expires .*complete with the expired lease's token resolved true/);
  });

  it("rejects bad options and a missing factory with TypeErrors naming them", async () => {
    await expect(runStoreConformance(undefined as never)).rejects.toThrow(/factory/);
    await expect(runStoreConformance(() => memoryStore(), { concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(runStoreConformance(() => memoryStore(), { leaseMs: -1 })).rejects.toThrow(/leaseMs/);
  });

  it("uses fresh random keys on every run, so runs can share a store", async () => {
    const { clock, options } = fakeTime();
    const shared = flawedStore(clock);
    await runStoreConformance(() => shared, options);
    await runStoreConformance(() => shared, options);
  });
});
