/**
 * The conformance kit: proves that an {@link IdempotencyStore} keeps the contract the
 * receiver relies on, against the real backend. Independent of any test runner.
 *
 * @module
 */
import type { ClaimResult, IdempotencyStore, WatermarkResult } from "../store";

/** Makes the store under test; called once per check. May return the same store each time. */
export type StoreFactory = () => Promise<IdempotencyStore> | IdempotencyStore;

/** Options of {@link runStoreConformance} and {@link ConformanceCheck.run}. */
export interface ConformanceOptions {
  /**
   * The short lease the expiry checks use, in milliseconds; the kit waits a little longer
   * than this for it to expire. Other checks use a lease of a minute, so a slow store
   * cannot fail them by letting a lease run out mid-check.
   *
   * @default 300
   */
  readonly leaseMs?: number;
  /**
   * The short dedupe window the TTL check uses, in milliseconds.
   *
   * @default 300
   */
  readonly ttlMs?: number;
  /**
   * How many concurrent claims race for one fresh key.
   *
   * @default 50
   */
  readonly concurrency?: number;
  /**
   * Waits this many milliseconds. Replace it for a store with an injectable clock to
   * advance that clock instead of waiting (`async (ms) => { now += ms }`).
   *
   * @default real time, by setTimeout
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Prepended to every key the kit uses. Each run adds its own random part after it, so
   * runs never collide in a shared store.
   *
   * @default "hookguard-conformance:"
   */
  readonly keyPrefix?: string;
}

/** One rule of the contract, runnable on its own (e.g. as one `it()` of your test runner). */
export interface ConformanceCheck {
  /** A stable kebab-case id, e.g. `"concurrent-claims"`. */
  readonly id: string;
  /** The rule, in one sentence. */
  readonly rule: string;
  /** Whether the check is about an optional method (`advanceWatermark`). */
  readonly optional: boolean;
  /**
   * Runs the check on a fresh store from `factory`; rejects with a
   * {@link StoreConformanceViolation}. Resolves `"skipped"` when the check is about an
   * optional method the store does not have, `"passed"` otherwise.
   */
  run(factory: StoreFactory, options?: ConformanceOptions): Promise<"passed" | "skipped">;
}

/** What {@link runStoreConformance} resolves when every check passed. */
export interface ConformanceSummary {
  /** Ids of the checks run, all passed, in order. */
  readonly passed: readonly string[];
  /** Ids of the optional checks not run: the store lacks the optional method they test. */
  readonly skipped: readonly string[];
  /** How many checks ran. */
  readonly checks: number;
  /** Wall time of the whole run, in milliseconds. */
  readonly durationMs: number;
}

/**
 * A store broke one rule: `check` and `rule` name it, the message says what happened. Thrown
 * by {@link ConformanceCheck.run}; collected in {@link StoreConformanceError.errors}.
 *
 * @example
 * ```ts
 * import { conformanceChecks, StoreConformanceViolation } from "hookguard/testing";
 *
 * for (const check of conformanceChecks) {
 *   await check.run(() => myStore(db)).catch((e) => {
 *     if (e instanceof StoreConformanceViolation) console.error(e.check, e.rule, e.message);
 *     else throw e;
 *   });
 * }
 * ```
 */
export class StoreConformanceViolation extends Error {
  /** The id of the check that failed. */
  readonly check: string;
  /** The rule that was broken. */
  readonly rule: string;

  constructor(check: string, rule: string, detail: string, options?: { cause?: unknown }) {
    super(`[${check}] ${rule}. ${detail}`, options);
    this.name = "StoreConformanceViolation";
    this.check = check;
    this.rule = rule;
  }
}

/**
 * Thrown by {@link runStoreConformance}: every rule the store broke, in `errors` and in the
 * message.
 *
 * @example
 * ```ts
 * import { runStoreConformance, StoreConformanceError } from "hookguard/testing";
 *
 * try {
 *   await runStoreConformance(() => myStore(db));
 * } catch (e) {
 *   if (e instanceof StoreConformanceError) console.error(e.failed); // ["concurrent-claims", …]
 *   throw e;
 * }
 * ```
 */
export class StoreConformanceError extends AggregateError {
  /** One violation per broken rule, each naming its check and rule. */
  declare readonly errors: StoreConformanceViolation[];
  /** The ids of the failed checks. */
  readonly failed: readonly string[];

  constructor(violations: StoreConformanceViolation[], checks: number) {
    super(
      violations,
      `The store broke ${violations.length} of ${checks} idempotency store rules:\n` + violations.map((v) => `  ✗ ${v.message}`).join("\n"),
    );
    this.name = "StoreConformanceError";
    this.failed = violations.map((v) => v.check);
  }
}

// Leases and windows the non-expiry checks use: long enough that no store, however slow
// or loaded, sees them run out mid-check.
const LONG_MS = 60_000;

interface Context {
  readonly store: IdempotencyStore;
  readonly leaseMs: number;
  readonly ttlMs: number;
  readonly concurrency: number;
  /** A key no other check or run uses. */
  key(name?: string): string;
  /** Waits until something of `ms` duration has surely expired. */
  outlive(ms: number): Promise<void>;
  /** Fails the check unless `ok`. */
  expect(ok: boolean, detail: string): void;
  /** Claims, checking the result's shape. */
  claim(key: string, leaseMs?: number): Promise<ClaimResult>;
  /** The store's optional advanceWatermark, checked for shape; skips the check if it has none. */
  watermark(): (key: string, value: number, ttlMs?: number) => Promise<WatermarkResult>;
  /** Claims and expects `claimed`; returns the token. */
  claimed(key: string, leaseMs?: number, what?: string): Promise<string>;
}

class Failure extends Error {}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

class Skip extends Error {}

function defineCheck(id: string, rule: string, body: (ctx: Context) => Promise<void>, optional = false): ConformanceCheck {
  return {
    id,
    rule,
    optional,
    async run(factory, options = {}) {
      const { leaseMs = 300, ttlMs = 300, concurrency = 50, keyPrefix = "hookguard-conformance:" } = options;
      const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      for (const [name, value] of [["leaseMs", leaseMs], ["ttlMs", ttlMs], ["concurrency", concurrency]] as const) {
        if (!Number.isFinite(value) || value < 1) throw new TypeError(`hookguard: runStoreConformance({ ${name} }) must be a positive number; got ${String(value)}`);
      }
      const run = `${keyPrefix}${globalThis.crypto.randomUUID()}:${id}:`;
      let n = 0;
      let store: IdempotencyStore;
      try {
        store = await factory();
      } catch (e) {
        throw new StoreConformanceViolation(id, rule, `The store factory threw: ${e instanceof Error ? e.message : show(e)}`, { cause: e });
      }
      const ctx: Context = {
        store,
        leaseMs,
        ttlMs,
        concurrency,
        key: (name = "key") => `${run}${name}:${n++}`,
        // A margin over the duration, for clocks that tick in coarse steps and for the
        // time between the store taking a timestamp and answering.
        outlive: (ms) => sleep(ms + Math.max(50, Math.ceil(ms / 2))),
        expect(ok, detail) {
          if (!ok) throw new Failure(detail);
        },
        async claim(key, lease = LONG_MS) {
          const result: unknown = await store.claim(key, { leaseMs: lease });
          const r = result as { status?: unknown; token?: unknown } | null;
          const valid =
            typeof r === "object" &&
            r !== null &&
            ((r.status === "claimed" && typeof r.token === "string" && r.token.length > 0) || r.status === "in_progress" || r.status === "completed");
          if (!valid) {
            throw new Failure(
              `claim resolved ${show(result)}, not { status: "claimed", token: <non-empty string> } | { status: "in_progress" } | { status: "completed" }`,
            );
          }
          return result as ClaimResult;
        },
        watermark() {
          const fn = store.advanceWatermark;
          if (typeof fn !== "function") throw new Skip();
          return async (key, value, ttl = LONG_MS) => {
            const result: unknown = await fn.call(store, key, value, { ttlMs: ttl });
            const r = result as { stale?: unknown; latest?: unknown } | null;
            if (typeof r !== "object" || r === null || typeof r.stale !== "boolean" || typeof r.latest !== "number") {
              throw new Failure(`advanceWatermark resolved ${show(result)}, not { stale: boolean, latest: number }`);
            }
            return result as WatermarkResult;
          };
        },
        async claimed(key, lease = LONG_MS, what = "a claim on a free key") {
          const r = await ctx.claim(key, lease);
          if (r.status !== "claimed") throw new Failure(`${what} resolved ${show(r)}, expected claimed`);
          return r.token;
        },
      };
      try {
        await body(ctx);
        return "passed";
      } catch (e) {
        if (e instanceof Skip) return "skipped";
        const detail = e instanceof Failure ? e.message : `The store threw: ${e instanceof Error ? `${e.name}: ${e.message}` : show(e)}`;
        throw new StoreConformanceViolation(id, rule, detail, { cause: e instanceof Failure ? undefined : e });
      }
    },
  };
}

/**
 * Every rule of the {@link IdempotencyStore} contract as a separate check, in the order
 * {@link runStoreConformance} runs them. Wire them into your test runner one by one to see
 * each rule as its own test.
 *
 * Subpath: `hookguard/testing`.
 *
 * @example vitest (jest and node:test alike)
 * ```ts
 * import { conformanceChecks } from "hookguard/testing";
 *
 * describe("myStore", () => {
 *   for (const check of conformanceChecks) {
 *     it(check.rule, () => check.run(() => myStore({ client })));
 *   }
 * });
 * ```
 */
export const conformanceChecks: readonly ConformanceCheck[] = Object.freeze([
  defineCheck("claim-fresh", "A claim on a fresh key resolves claimed, with a non-empty string token", async (c) => {
    await c.claimed(c.key());
  }),

  defineCheck("claim-held", "A claim while another lease on the key is live resolves in_progress", async (c) => {
    const key = c.key();
    await c.claimed(key);
    const again = await c.claim(key);
    c.expect(again.status === "in_progress", `The second claim resolved ${show(again)}`);
    const third = await c.claim(key);
    c.expect(third.status === "in_progress", `A third claim resolved ${show(third)}`);
  }),

  defineCheck("concurrent-claims", "Of N concurrent claims on a fresh key exactly one resolves claimed, the others in_progress", async (c) => {
    // Several rounds: a race that a store loses only sometimes still shows up.
    for (let round = 0; round < 3; round++) {
      const key = c.key("race");
      const results = await Promise.all(Array.from({ length: c.concurrency }, () => c.claim(key)));
      const claimed = results.filter((r) => r.status === "claimed").length;
      const completed = results.filter((r) => r.status === "completed").length;
      c.expect(
        claimed === 1 && completed === 0,
        `Of ${c.concurrency} concurrent claims, ${claimed} resolved claimed and ${completed} completed (round ${round + 1})`,
      );
    }
  }),

  defineCheck(
    "complete",
    "complete with the live lease's token resolves true; the key then claims as completed, and the token can neither complete nor release it again",
    async (c) => {
      const key = c.key();
      const token = await c.claimed(key);
      const done = await c.store.complete(key, token, { ttlMs: LONG_MS });
      c.expect(done === true, `complete with the lease's token resolved ${show(done)}`);
      const after = await c.claim(key);
      c.expect(after.status === "completed", `A claim after complete resolved ${show(after)}`);
      const twice = await c.store.complete(key, token, { ttlMs: LONG_MS });
      c.expect(twice === false, `A second complete with the same token resolved ${show(twice)}`);
      const released = await c.store.release(key, token);
      c.expect(released === false, `release after complete resolved ${show(released)}: a completed key must not be freed`);
      const still = await c.claim(key);
      c.expect(still.status === "completed", `After a late release, a claim resolved ${show(still)}`);
    },
  ),

  defineCheck("wrong-token", "complete or release with a wrong token resolves false and changes nothing", async (c) => {
    const key = c.key();
    const token = await c.claimed(key);
    const other = await c.claimed(c.key("other"));
    for (const wrong of [`${token}x`, other, "", token.slice(0, -1)]) {
      const completed = await c.store.complete(key, wrong, { ttlMs: LONG_MS });
      c.expect(completed === false, `complete with the wrong token ${show(wrong)} resolved ${show(completed)}`);
      const released = await c.store.release(key, wrong);
      c.expect(released === false, `release with the wrong token ${show(wrong)} resolved ${show(released)}`);
    }
    const held = await c.claim(key);
    c.expect(held.status === "in_progress", `After wrong-token calls, a claim resolved ${show(held)}: the lease must still be held`);
    const done = await c.store.complete(key, token, { ttlMs: LONG_MS });
    c.expect(done === true, `After wrong-token calls, complete with the right token resolved ${show(done)}`);
    // A key nobody holds: no token at all matches it.
    const absent = c.key("absent");
    c.expect((await c.store.complete(absent, token, { ttlMs: LONG_MS })) === false, "complete on a key never claimed resolved true");
    c.expect((await c.store.release(absent, token)) === false, "release on a key never claimed resolved true");
    c.expect((await c.claim(absent)).status === "claimed", "A key never claimed was not claimable after complete/release on it");
  }),

  defineCheck("release-reclaim", "release with the token resolves true, and the key can be claimed again at once, with a different token", async (c) => {
    const key = c.key();
    const first = await c.claimed(key);
    const released = await c.store.release(key, first);
    c.expect(released === true, `release with the lease's token resolved ${show(released)}`);
    const second = await c.claimed(key, undefined, "A claim right after release");
    c.expect(second !== first, "The claim after release got the released token again");
    const stale = await c.store.release(key, first);
    c.expect(stale === false, `release with the released token resolved ${show(stale)}: it freed the new claim`);
    const staleDone = await c.store.complete(key, first, { ttlMs: LONG_MS });
    c.expect(staleDone === false, `complete with the released token resolved ${show(staleDone)}`);
    c.expect((await c.claim(key)).status === "in_progress", "The new claim's lease was not held after calls with the released token");
  }),

  defineCheck(
    "lease-expiry-fencing",
    "Once a lease expires a new claim wins with a new token, and the old token can neither complete nor release it",
    async (c) => {
      const key = c.key();
      const old = await c.claimed(key, c.leaseMs);
      await c.outlive(c.leaseMs);
      const fresh = await c.claimed(key, LONG_MS, `A claim after the ${c.leaseMs} ms lease expired`);
      c.expect(fresh !== old, "The claim after expiry got the expired lease's token again");
      const completed = await c.store.complete(key, old, { ttlMs: LONG_MS });
      c.expect(completed === false, `complete with the expired lease's token resolved ${show(completed)}`);
      const released = await c.store.release(key, old);
      c.expect(released === false, `release with the expired lease's token resolved ${show(released)}`);
      const held = await c.claim(key);
      c.expect(held.status === "in_progress", `After the old token's calls, a claim resolved ${show(held)}: the new lease must still be held`);
      c.expect((await c.store.complete(key, fresh, { ttlMs: LONG_MS })) === true, "The new lease's token could not complete it");
    },
  ),

  defineCheck("complete-after-expiry", "complete or release after the lease expired resolves false, and the key is free to claim", async (c) => {
    const key = c.key();
    const token = await c.claimed(key, c.leaseMs);
    await c.outlive(c.leaseMs);
    const done = await c.store.complete(key, token, { ttlMs: LONG_MS });
    c.expect(done === false, `complete after the ${c.leaseMs} ms lease expired resolved ${show(done)}`);
    const released = await c.store.release(key, token);
    c.expect(released === false, `release after the ${c.leaseMs} ms lease expired resolved ${show(released)}`);
    const again = await c.claim(key);
    c.expect(again.status === "claimed", `A claim after the late complete resolved ${show(again)}: the expired lease must count as absent`);
  }),

  defineCheck("ttl-expiry", "A completed key is reported completed during its TTL and can be claimed again once it has passed", async (c) => {
    const key = c.key();
    const token = await c.claimed(key);
    c.expect((await c.store.complete(key, token, { ttlMs: c.ttlMs })) === true, "complete with the lease's token resolved false");
    const during = await c.claim(key);
    c.expect(during.status === "completed", `A claim within the ${c.ttlMs} ms TTL resolved ${show(during)}`);
    await c.outlive(c.ttlMs);
    const fresh = await c.claimed(key, LONG_MS, `A claim after the ${c.ttlMs} ms TTL passed`);
    c.expect(fresh !== token, "The claim after the TTL got the old token again");
  }),

  defineCheck("unique-tokens", "Tokens are unique across many claims, of different keys and of the same key again", async (c) => {
    const tokens = await Promise.all(Array.from({ length: 200 }, () => c.claimed(c.key("many"))));
    const key = c.key("again");
    for (let i = 0; i < 20; i++) {
      const token = await c.claimed(key, LONG_MS, `Claim ${i + 1} of one key after release`);
      tokens.push(token);
      c.expect((await c.store.release(key, token)) === true, `release ${i + 1} resolved false`);
    }
    const unique = new Set(tokens).size;
    c.expect(unique === tokens.length, `${tokens.length} claims produced ${unique} distinct tokens`);
  }),

  defineCheck("independent-keys", "Operations on one key never change another key", async (c) => {
    const a = c.key("a");
    const b = c.key("b");
    const ta = await c.claimed(a);
    const tb = await c.claimed(b, LONG_MS, "A claim on a second key while the first is leased");
    c.expect((await c.store.complete(a, ta, { ttlMs: LONG_MS })) === true, "complete on the first key resolved false");
    c.expect((await c.claim(b)).status === "in_progress", "Completing the first key changed the second");
    c.expect((await c.store.complete(a, tb, { ttlMs: LONG_MS })) === false, "The second key's token completed the first key");
    c.expect((await c.store.release(b, tb)) === true, "release on the second key resolved false");
    c.expect((await c.claim(a)).status === "completed", "Releasing the second key changed the first");
    // Keys that differ only by case, a separator or a prefix relation are different keys.
    const base = c.key("case");
    for (const k of [base, base.toUpperCase(), `${base}:`, `${base}0`]) await c.claimed(k, LONG_MS, `A claim on ${show(k)}`);
  }),

  defineCheck(
    "watermark-order",
    "advanceWatermark (optional) keeps the largest value: an older value is stale and changes nothing, an equal or newer one is not; watermarks never touch claims",
    async (c) => {
      const advance = c.watermark();
      const key = c.key("wm");
      const seen = (r: unknown) => show(r);
      let r = await advance(key, 10);
      c.expect(r.stale === false && r.latest === 10, `The first value resolved ${seen(r)}, expected { stale: false, latest: 10 }`);
      r = await advance(key, 5);
      c.expect(r.stale === true && r.latest === 10, `An older value resolved ${seen(r)}, expected { stale: true, latest: 10 }`);
      r = await advance(key, 10);
      c.expect(r.stale === false && r.latest === 10, `The same value again resolved ${seen(r)}, expected { stale: false, latest: 10 }`);
      r = await advance(key, 1_700_000_000_123);
      c.expect(r.stale === false && r.latest === 1_700_000_000_123, `A newer epoch-ms value resolved ${seen(r)}`);
      r = await advance(key, 11);
      c.expect(r.stale === true && r.latest === 1_700_000_000_123, `An older value after it resolved ${seen(r)}`);
      await c.claimed(key, LONG_MS, "A claim on a key that only has a watermark");
    },
    true,
  ),

  defineCheck("watermark-concurrent", "Concurrent advanceWatermark calls (optional) on one key end at the largest value, which is never reported stale", async (c) => {
    const advance = c.watermark();
    const key = c.key("wm-race");
    const values = Array.from({ length: c.concurrency }, (_, i) => ((i * 7919) % c.concurrency) + 1);
    const results = await Promise.all(values.map((v) => advance(key, v)));
    const max = Math.max(...values);
    c.expect(results[values.indexOf(max)]!.stale === false, `The largest value was reported stale: ${show(results[values.indexOf(max)])}`);
    const after = await advance(key, 0);
    c.expect(after.stale === true && after.latest === max, `After ${values.length} concurrent advances the watermark is ${show(after)}, expected latest ${max}`);
  }, true),

  defineCheck("watermark-expiry", "A watermark (optional) is forgotten once its ttlMs has passed", async (c) => {
    const advance = c.watermark();
    const key = c.key("wm-ttl");
    await advance(key, 100, c.ttlMs);
    const during = await advance(key, 1, LONG_MS);
    c.expect(during.stale === true, `Within its TTL an older value resolved ${show(during)}`);
    await c.outlive(c.ttlMs);
    const after = await advance(key, 1, LONG_MS);
    c.expect(after.stale === false && after.latest === 1, `After the TTL an older value resolved ${show(after)}, expected { stale: false, latest: 1 }`);
  }, true),
]);

/**
 * Runs every {@link conformanceChecks | conformance check} against stores made by
 * `factory`, one after another, and resolves a summary when all pass. Otherwise it runs
 * them all anyway and rejects with a {@link StoreConformanceError} listing each rule the
 * store broke. Uses random keys, so it can run against a shared Redis or database.
 *
 * It takes real time: three checks wait for a lease or TTL to expire (about 450 ms each
 * with the defaults). Pass `sleep` to advance a fake clock instead.
 *
 * Subpath: `hookguard/testing`.
 *
 * @example
 * ```ts
 * import { runStoreConformance } from "hookguard/testing";
 *
 * test("my store keeps the idempotency contract", async () => {
 *   await runStoreConformance(() => myStore({ client }));
 * });
 * ```
 *
 * @example A store with an injectable clock
 * ```ts
 * let now = 0;
 * await runStoreConformance(() => memoryStore({ now: () => now }), { sleep: async (ms) => { now += ms } });
 * ```
 */
export async function runStoreConformance(factory: StoreFactory, options: ConformanceOptions = {}): Promise<ConformanceSummary> {
  if (typeof factory !== "function") throw new TypeError("hookguard: runStoreConformance(factory) needs a function returning the store to test");
  const started = Date.now();
  const violations: StoreConformanceViolation[] = [];
  const passed: string[] = [];
  const skipped: string[] = [];
  for (const check of conformanceChecks) {
    try {
      if ((await check.run(factory, options)) === "skipped") skipped.push(check.id);
      else passed.push(check.id);
    } catch (e) {
      if (!(e instanceof StoreConformanceViolation)) throw e;
      violations.push(e);
    }
  }
  if (violations.length > 0) throw new StoreConformanceError(violations, conformanceChecks.length);
  return { passed, skipped, checks: conformanceChecks.length, durationMs: Date.now() - started };
}
