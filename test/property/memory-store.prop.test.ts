// memoryStore against a model: any sequence of claims, completions and releases, on any
// keys, with the clock moving and the store full or not, gets the answers a plain list
// model gives — statuses, tokens that fence, evictions in the documented order, the size.
// The store keeps its entries in typed-array slots (in chunks) with free-list reuse and growth, and finds
// keys through an open-addressing table over their characters (copied into the slots, or kept
// as strings when long or not Latin-1); the model is arrays searched in O(n), too simple to be
// wrong in the same way. A store this small has a table of 2-16 buckets, so keys collide,
// probe past each other and wrap around, and deletions shift entries back, on every run.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWebhookError } from "../../src/errors";
import { memoryStore, memoryStoreHashing, type MemoryStoreOptions } from "../../src/stores/memory";
import { CLAIM_COMPLETED, CLAIM_IN_PROGRESS, syncTwins } from "../../src/internal/sync-store";
import { params, propTimeout } from "./support";

interface ModelEntry {
  key: string;
  token: string | undefined;
  expiresAt: number;
}

/** The documented semantics, by brute force. */
class Model {
  leases: ModelEntry[] = [];
  completed: ModelEntry[] = [];
  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.leases.length + this.completed.length;
  }
  find(key: string): ModelEntry | undefined {
    return this.leases.find((e) => e.key === key) ?? this.completed.find((e) => e.key === key);
  }
  remove(e: ModelEntry): void {
    this.leases = this.leases.filter((x) => x !== e);
    this.completed = this.completed.filter((x) => x !== e);
  }
  dropExpiredHeads(t: number): void {
    while (this.completed[0] && this.completed[0].expiresAt <= t) this.completed.shift();
    while (this.leases[0] && this.leases[0].expiresAt <= t) this.leases.shift();
  }
  /** "claimed" (the caller records the token), "completed", "in_progress" or "full". */
  claim(key: string, leaseMs: number, t: number): "claimed" | "completed" | "in_progress" | "full" {
    this.dropExpiredHeads(t);
    const existing = this.find(key);
    if (existing) {
      if (existing.expiresAt > t) return existing.token === undefined ? "completed" : "in_progress";
      this.remove(existing);
    }
    if (this.size >= this.maxEntries) {
      if (this.completed.length > 0) this.completed.shift();
      else {
        const live = this.leases.filter((e) => e.expiresAt > t);
        if (live.length === this.leases.length) return "full";
        this.leases = live;
      }
    }
    this.leases.push({ key, token: "pending", expiresAt: t + leaseMs });
    return "claimed";
  }
  complete(key: string, token: string, ttlMs: number, t: number): boolean {
    const e = this.find(key);
    if (!e || e.token === undefined || e.token !== token) return false;
    this.remove(e);
    if (e.expiresAt <= t) return false;
    this.completed.push({ key, token: undefined, expiresAt: t + ttlMs });
    return true;
  }
  release(key: string, token: string, t: number): boolean {
    const e = this.find(key);
    if (!e || e.token === undefined || e.token !== token) return false;
    this.remove(e);
    return e.expiresAt > t;
  }
}

// `twin`: through the synchronous twins the receiver calls (the key hashed from two parts,
// the lease named by its number), else through the public async API.
type Op =
  | { op: "claim"; key: number; leaseMs: number; twin: boolean }
  | { op: "complete"; key: number; which: "current" | "stale" | "forged"; ttlMs: number; twin: boolean }
  | { op: "release"; key: number; which: "current" | "stale" | "forged" }
  | { op: "tick"; ms: number };

const duration = fc.constantFrom(1, 5, 20, 100, 1_000);
const which = fc.constantFrom("current" as const, "current" as const, "stale" as const, "forged" as const);
const op = (keys: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { arbitrary: fc.record({ op: fc.constant("claim" as const), key: fc.nat(keys - 1), leaseMs: duration, twin: fc.boolean() }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant("complete" as const), key: fc.nat(keys - 1), which, ttlMs: duration, twin: fc.boolean() }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant("release" as const), key: fc.nat(keys - 1), which }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant("tick" as const), ms: fc.constantFrom(0, 1, 3, 10, 50, 200) }), weight: 2 },
  );

// Keys of every shape the store keeps differently: short, exactly as long as a slot's row (64),
// one longer (kept as a string), Latin-1 beyond ASCII, beyond Latin-1, ones that share
// a long prefix or differ only in their last character, and two that differ only above the
// low byte of their first character.
const KEY_SHAPES: readonly ((i: number) => string)[] = [
  (i) => `k${i}`,
  (i) => `k${i}`.padEnd(64, "x"),
  (i) => `k${i}`.padEnd(65, "x"),
  (i) => `é${i}`,
  (i) => `ключ-${i}`,
  (i) => `${"p".repeat(60)}${i}`,
  // Each a prefix of the next: equal up to the shorter one's length.
  (i) => "q".repeat(55 + i),
  // Two keys whose code units agree in their low bytes (U+0100 and U+0000, then the same
  // digits): one byte per character would store them alike.
  (i) => `\u0100-${Math.floor(i / 9)}`,
  (i) => `\u0000-${Math.floor(i / 9)}`,
];
const keyName = (i: number) => KEY_SHAPES[i % KEY_SHAPES.length]!(i);

// The store's own hash, and hashes that crowd every key into the table's last bucket or two,
// so that clusters wrap around its end; and columns that start at one or two slots, so that
// a store of a few entries grows (and copies its columns) several times.
const STORES: readonly [string, (options: MemoryStoreOptions) => ReturnType<typeof memoryStore>][] = [
  ["its own hash", (options) => memoryStore(options)],
  ["keys crowded into the last two buckets", (options) => memoryStoreHashing(options, (key) => -1 - (key.length % 2))],
  ["every key hashed to -1", (options) => memoryStoreHashing(options, () => -1)],
  ["its own hash, one slot at first", (options) => memoryStoreHashing(options, undefined, 1)],
  ["keys crowded into the last two buckets, two slots at first", (options) => memoryStoreHashing(options, (key) => -1 - (key.length % 2), 2)],
];

describe.each(STORES)("memoryStore (%s) against a model", (_, create) => {
  it("answers every claim, complete and release as the model does, evicts in the same order and reports the same size", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 }), fc.array(op(12), { maxLength: 120 }), async (maxEntries, keyCount, ops) => {
        let now = 1_000;
        const store = create({ maxEntries, now: () => now });
        const model = new Model(maxEntries);
        const twins = syncTwins(store)?.current();
        if (twins === undefined) throw new Error("memoryStore has no synchronous twins");
        // The tokens the store handed out per key: the last is "current", earlier ones "stale".
        const tokens = new Map<string, string[]>();
        // The twins' number of each token they handed out.
        const leases = new Map<string, number>();
        for (const o of ops) {
          if (o.op === "tick") {
            now += o.ms;
            continue;
          }
          const key = keyName(o.key % keyCount);
          if (o.op === "claim") {
            const expected = model.claim(key, o.leaseMs, now);
            const full = (e: unknown) => (isWebhookError(e) && e.code === "store_unavailable" ? ("full" as const) : Promise.reject(e));
            let got: Awaited<ReturnType<typeof store.claim>> | "full";
            if (o.twin) {
              // Split anywhere: the parts' join is the key.
              const cut = key.length >> 1;
              got = await Promise.resolve()
                .then(() => twins.claim(key.slice(0, cut), key.slice(cut), key, o.leaseMs))
                .then((lease) => {
                  if (lease === CLAIM_COMPLETED || lease === CLAIM_IN_PROGRESS) return { status: lease === CLAIM_COMPLETED ? ("completed" as const) : ("in_progress" as const) };
                  expect(lease).toBeGreaterThan(0);
                  const token = twins.token(lease);
                  leases.set(token, lease);
                  return { status: "claimed" as const, token };
                }, full);
            } else {
              got = await store.claim(key, { leaseMs: o.leaseMs }).then((r) => r, full);
            }
            const status = got === "full" ? "full" : got.status;
            if (status !== expected) expect({ key, status }).toEqual({ key, status: expected });
            if (got !== "full" && got.status === "claimed") {
              const held = tokens.get(key) ?? [];
              if (held.includes(got.token)) expect(got.token).not.toBe("a token handed out before");
              tokens.set(key, [...held, got.token]);
              model.find(key)!.token = got.token;
            }
          } else {
            const held = tokens.get(key) ?? [];
            const token = o.which === "current" ? (held.at(-1) ?? "none") : o.which === "stale" ? (held.at(-2) ?? "none") : `${held.at(-1) ?? "x"}0`;
            // The twin completes leases it numbered; a forged number is one it never gave this key.
            const lease = o.which === "forged" ? (leases.get(held.at(-1) ?? "") ?? 0) * 10 + 7 : leases.get(token);
            const viaTwin = o.op === "complete" && o.twin && lease !== undefined;
            const asToken = viaTwin && o.which === "forged" ? twins.token(lease) : token;
            const expected = o.op === "complete" ? model.complete(key, asToken, o.ttlMs, now) : model.release(key, token, now);
            const got = viaTwin
              ? twins.complete(key, lease, o.ttlMs)
              : o.op === "complete"
                ? await store.complete(key, token, { ttlMs: o.ttlMs })
                : await store.release(key, token);
            if (got !== expected) expect({ op: o.op, key, got }).toEqual({ op: o.op, key, got: expected });
          }
          if (store.size !== model.size) expect(store.size).toBe(model.size);
        }
      }),
      params(),
    );
  }, propTimeout(1));

  it("finds every other key after any one is removed from a cluster of 2 to 9, and can claim the removed one again", async () => {
    // Deterministic, so the probe-and-shift logic is covered on every run, not only when the
    // random sequences happen to build a long cluster.
    for (let n = 2; n <= 9; n++) {
      for (let removed = 0; removed < n; removed++) {
        const store = create({ maxEntries: 9 });
        const keys = Array.from({ length: n }, (_, i) => keyName(i + 6 * (i % 2)));
        const tokens: string[] = [];
        for (const key of keys) {
          const r = await store.claim(key, { leaseMs: 60_000 });
          if (r.status !== "claimed") throw new Error(`${key}: ${r.status}`);
          tokens.push(r.token);
        }
        expect(await store.release(keys[removed]!, tokens[removed]!)).toBe(true);
        for (const [i, key] of keys.entries()) {
          if (i === removed) continue;
          const status = (await store.claim(key, { leaseMs: 60_000 })).status;
          if (status !== "in_progress") expect({ n, removed, key: i, status }).toEqual({ n, removed, key: i, status: "in_progress" });
          // The lease is still the one it was, fenced by its own token.
          expect(await store.complete(key, tokens[i]!, { ttlMs: 60_000 })).toBe(true);
        }
        expect((await store.claim(keys[removed]!, { leaseMs: 60_000 })).status).toBe("claimed");
        expect(store.size).toBe(n);
      }
    }
  });

  it("grows past its first 1,024 slots and reuses freed ones: 5,000 keys through a 3,000-entry store", async () => {
    let now = 0;
    const store = create({ maxEntries: 3_000, now: () => now });
    const held = new Map<string, string>();
    for (let i = 0; i < 5_000; i++) {
      const r = await store.claim(`k${i}`, { leaseMs: 1_000 });
      if (r.status !== "claimed") throw new Error(`k${i}: ${r.status}`);
      held.set(`k${i}`, r.token);
      if (i % 2 === 0) expect(await store.complete(`k${i}`, r.token, { ttlMs: 10_000 })).toBe(true);
      now += 1;
    }
    expect(store.size).toBe(3_000);
    // The newest keys are all still there, in the state they were left in.
    for (let i = 4_999; i >= 4_000; i--) expect((await store.claim(`k${i}`, { leaseMs: 1_000 })).status).toBe(i % 2 === 0 ? "completed" : "in_progress");
    // The leases still fence with their own tokens, and only with them.
    expect(await store.complete("k4999", held.get("k4997")!, { ttlMs: 10 })).toBe(false);
    expect(await store.complete("k4999", held.get("k4999")!, { ttlMs: 10 })).toBe(true);
  });
});
