import { describe, expect, it } from "vitest";
import { isWebhookError, WebhookError } from "../../src/errors";
import { memoryStore } from "../../src/stores/memory";
import { itKeepsTheStoreContract } from "./conformance-suite";

const LONG = 60_000;

describe("memoryStore: conformance, on a fake clock", () => {
  let now = 1_700_000_000_000;
  itKeepsTheStoreContract(() => memoryStore({ now: () => now }), {
    sleep: async (ms) => {
      now += ms;
    },
  });
});

describe("memoryStore: conformance, on the real clock", () => {
  itKeepsTheStoreContract(() => memoryStore(), { leaseMs: 100, ttlMs: 100 });
});

describe("memoryStore: bounds", () => {
  it("evicts the oldest completed key first, before any older lease", async () => {
    const store = memoryStore({ maxEntries: 4, now: () => 0 });
    const leaseA = await store.claim("a", { leaseMs: LONG });
    const c = await store.claim("c", { leaseMs: LONG });
    const d = await store.claim("d", { leaseMs: LONG });
    await store.claim("b", { leaseMs: LONG });
    if (c.status !== "claimed" || d.status !== "claimed" || leaseA.status !== "claimed") throw new Error("setup");
    // Completion order, not claim order, decides: d completes before c.
    expect(await store.complete("d", d.token, { ttlMs: LONG })).toBe(true);
    expect(await store.complete("c", c.token, { ttlMs: LONG })).toBe(true);
    expect(store.size).toBe(4);

    expect((await store.claim("e", { leaseMs: LONG })).status).toBe("claimed");
    expect(store.size).toBe(4);
    expect((await store.claim("c", { leaseMs: LONG })).status).toBe("completed");
    expect((await store.claim("a", { leaseMs: LONG })).status).toBe("in_progress");
    expect((await store.claim("b", { leaseMs: LONG })).status).toBe("in_progress");

    expect((await store.claim("f", { leaseMs: LONG })).status).toBe("claimed"); // evicts c, the last completed
    expect(store.size).toBe(4);
    // The oldest lease is still held by its token…
    expect((await store.claim("a", { leaseMs: LONG })).status).toBe("in_progress");
    expect(await store.complete("a", leaseA.token, { ttlMs: LONG })).toBe(true);
    // …and once completed it is the one evicted next; d was forgotten, so it is claimable.
    expect((await store.claim("d", { leaseMs: LONG })).status).toBe("claimed");
    expect(store.size).toBe(4);
  });

  it("evicts an expired lease, even one behind a live one, when no completed key is left", async () => {
    let now = 0;
    const store = memoryStore({ maxEntries: 2, now: () => now });
    await store.claim("long", { leaseMs: 10_000 });
    const short = await store.claim("short", { leaseMs: 1_000 });
    now += 2_000;
    expect((await store.claim("new", { leaseMs: 10_000 })).status).toBe("claimed");
    expect(store.size).toBe(2);
    expect((await store.claim("long", { leaseMs: 10_000 })).status).toBe("in_progress");
    if (short.status === "claimed") expect(await store.release("short", short.token)).toBe(false);
  });

  it("never evicts a live lease: a store full of them rejects claims on new keys with store_unavailable (503)", async () => {
    let now = 0;
    const store = memoryStore({ maxEntries: 3, now: () => now });
    const tokens: string[] = [];
    for (const k of ["a", "b", "c"]) {
      const r = await store.claim(k, { leaseMs: 5_000 });
      if (r.status === "claimed") tokens.push(r.token);
    }
    const error = await store.claim("d", { leaseMs: 5_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebhookError);
    expect(isWebhookError(error)).toBe(true);
    expect(error).toMatchObject({ code: "store_unavailable", status: 503 });
    expect((error as Error).message).toMatch(/full.*live leases.*maxEntries/s);
    // Keys already held still answer, and every lease survived.
    expect((await store.claim("a", { leaseMs: 5_000 })).status).toBe("in_progress");
    expect(store.size).toBe(3);
    for (let i = 0; i < 3; i++) expect((await store.claim(["a", "b", "c"][i]!, { leaseMs: 5_000 })).status).toBe("in_progress");

    // Room comes back as soon as a lease completes (its key becomes evictable)…
    expect(await store.complete("a", tokens[0]!, { ttlMs: LONG })).toBe(true);
    expect((await store.claim("d", { leaseMs: 5_000 })).status).toBe("claimed");
    await expect(store.claim("e", { leaseMs: 5_000 })).rejects.toMatchObject({ code: "store_unavailable" });
    // …is released…
    expect(await store.release("b", tokens[1]!)).toBe(true);
    expect((await store.claim("e", { leaseMs: 5_000 })).status).toBe("claimed");
    // …or expires.
    await expect(store.claim("f", { leaseMs: 5_000 })).rejects.toMatchObject({ code: "store_unavailable" });
    now += 5_000;
    expect((await store.claim("f", { leaseMs: 5_000 })).status).toBe("claimed");
  });

  it("stays within maxEntries over 200 000 events, at O(1) per event", async () => {
    let now = 0;
    const store = memoryStore({ maxEntries: 1_000, now: () => now });
    let peak = 0;
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) {
      now += 1;
      const r = await store.claim(`evt_${i}`, { leaseMs: 30_000 });
      if (r.status !== "claimed") throw new Error(`event ${i}: ${r.status}`);
      // One in ten handlers fails and releases; the rest complete with a long window.
      if (i % 10 === 0) await store.release(`evt_${i}`, r.token);
      else await store.complete(`evt_${i}`, r.token, { ttlMs: 7 * 24 * 3600_000 });
      if (store.size > peak) peak = store.size;
    }
    expect(peak).toBe(1_000);
    // The newest completed keys are still deduplicated.
    expect((await store.claim("evt_199999", { leaseMs: 30_000 })).status).toBe("completed");
    // A Map used as a FIFO costs O(n) per eviction in V8 (2.5 s here, 54 s for 10⁶ events
    // at 10⁵ entries); linked lists keep this well under a second.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("holds at most the default 100 000 entries, whatever the number of events", async () => {
    const store = memoryStore();
    for (let i = 0; i < 150_000; i++) {
      const r = await store.claim(`evt_${i}`, { leaseMs: 30_000 });
      if (r.status === "claimed") await store.complete(`evt_${i}`, r.token, { ttlMs: LONG });
    }
    expect(store.size).toBe(100_000);
    expect((await store.claim("evt_149999", { leaseMs: 30_000 })).status).toBe("completed");
    expect((await store.claim("evt_0", { leaseMs: 30_000 })).status).toBe("claimed");
  });

  it("drops expired keys lazily, so steady traffic with a short window stays small", async () => {
    let now = 0;
    const store = memoryStore({ now: () => now });
    for (let i = 0; i < 20_000; i++) {
      now += 10;
      const r = await store.claim(`evt_${i}`, { leaseMs: 1_000 });
      if (r.status === "claimed") await store.complete(`evt_${i}`, r.token, { ttlMs: 5_000 });
    }
    // 5 s window / 10 ms per event: about 500 keys live, never anywhere near 20 000.
    expect(store.size).toBeLessThanOrEqual(501);
  });

  it("hands out tokens no other store shares: a random UUID per store, then a counter", async () => {
    const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    const a = memoryStore();
    const b = memoryStore();
    const first = await a.claim("k", { leaseMs: LONG });
    const second = await a.claim("k2", { leaseMs: LONG });
    const other = await b.claim("k", { leaseMs: LONG });
    expect(first).toEqual({ status: "claimed", token: expect.stringMatching(new RegExp(`^${uuid}\\.1$`)) });
    expect(second).toEqual({ status: "claimed", token: expect.stringMatching(new RegExp(`^${uuid}\\.2$`)) });
    const prefix = (r: typeof first) => (r.status === "claimed" ? r.token.split(".")[0] : undefined);
    expect(prefix(second)).toBe(prefix(first));
    expect(prefix(other)).not.toBe(prefix(first));
  });
});

describe("memoryStore: options", () => {
  it("rejects a bad maxEntries or clock at construction, naming the option", () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, Infinity, "10" as unknown as number]) {
      expect(() => memoryStore({ maxEntries })).toThrow(TypeError);
      expect(() => memoryStore({ maxEntries })).toThrow(/maxEntries/);
    }
    expect(() => memoryStore({ now: 5 as unknown as () => number })).toThrow(/now/);
  });

  it("rejects a lease or window that is not a positive duration, naming it", async () => {
    const store = memoryStore();
    for (const leaseMs of [0, -5, Number.NaN, Infinity]) {
      await expect(store.claim("k", { leaseMs })).rejects.toThrow(/leaseMs/);
    }
    const r = await store.claim("k", { leaseMs: LONG });
    if (r.status !== "claimed") throw new Error("setup");
    await expect(store.complete("k", r.token, { ttlMs: 0 })).rejects.toThrow(/ttlMs/);
    expect((await store.claim("k", { leaseMs: LONG })).status).toBe("in_progress");
  });
});
