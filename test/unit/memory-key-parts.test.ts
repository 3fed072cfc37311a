// The receiver claims a key through memoryStore's synchronous twin with the key's two parts
// (its namespace and the event id), which the store hashes without reading the joined
// string. The key must be the same key whichever way it came in: claimed by parts, it is
// found, fenced and completed through the store's public API by the whole string, and the
// other way round — for ids of every shape the store keeps differently.
import { describe, expect, it } from "vitest";
import { memoryStore } from "../../src/stores/memory";
import { CLAIM_COMPLETED, CLAIM_IN_PROGRESS, syncTwins, type SyncStoreOps } from "../../src/internal/sync-store";

function twinsOf(store: ReturnType<typeof memoryStore>): SyncStoreOps {
  const ops = syncTwins(store)?.current();
  if (ops === undefined) throw new Error("memoryStore has no synchronous twins");
  return ops;
}

/** The twin's answer as the async API's status. */
function status(lease: number): string {
  return lease > 0 ? "claimed" : lease === CLAIM_COMPLETED ? "completed" : lease === CLAIM_IN_PROGRESS ? "in_progress" : `unexpected ${lease}`;
}

const IDS = [
  "evt_1NabcdefGhijklmnOpqrstuv",
  "",
  "x",
  "é-latin1",
  "ключ-beyond-latin1",
  "i".repeat(64 - "stripe:".length),
  "i".repeat(65 - "stripe:".length),
  "long-".repeat(30),
];

describe("memoryStore: a key claimed by its parts", () => {
  for (const prefix of ["stripe:", "", "ключ:", "p".repeat(70)]) {
    it(`is the same key as the joined string (prefix ${JSON.stringify(prefix.slice(0, 12))}${prefix.length > 12 ? "…" : ""})`, async () => {
      const store = memoryStore();
      const ops = twinsOf(store);
      for (const id of IDS) {
        const key = prefix + id;
        const lease = ops.claim(prefix, id, key, 60_000);
        expect(status(lease)).toBe("claimed");
        // Found by the whole string, in both of the store's lookups.
        expect((await store.claim(key, { leaseMs: 60_000 })).status).toBe("in_progress");
        expect(await store.complete(key, "not-the-token", { ttlMs: 60_000 })).toBe(false);
        expect(await store.complete(key, ops.token(lease), { ttlMs: 60_000 })).toBe(true);
        expect(status(ops.claim(prefix, id, key, 60_000))).toBe("completed");
        // The other way round: claimed whole, found by its parts.
        const other = `${key}/2`;
        expect((await store.claim(other, { leaseMs: 60_000 })).status).toBe("claimed");
        expect(status(ops.claim(prefix, `${id}/2`, other, 60_000))).toBe("in_progress");
      }
      expect(store.size).toBe(2 * IDS.length);
    });
  }

  it("tells keys apart that share the prefix, after the prefix changes and comes back", () => {
    const store = memoryStore();
    const ops = twinsOf(store);
    for (const [pass, prefix] of ["a:", "b:", "a:"].entries()) {
      for (let i = 0; i < 50; i++) {
        const id = `evt_${i}`;
        const got = status(ops.claim(prefix, id, prefix + id, 60_000));
        // The third pass meets the first one's leases again.
        expect(got).toBe(pass === 2 ? "in_progress" : "claimed");
      }
    }
    expect(store.size).toBe(100);
  });
});

describe("memoryStore: a lease's token", () => {
  it("fences only in the one spelling the store handed out", async () => {
    const store = memoryStore();
    const ops = twinsOf(store);
    const lease = ops.claim("stripe:", "evt_1", "stripe:evt_1", 60_000);
    expect(lease).toBeGreaterThan(0);
    const token = ops.token(lease);
    const dot = token.lastIndexOf(".");
    const [start, digits] = [token.slice(0, dot + 1), token.slice(dot + 1)];
    const other = ops.token(ops.claim("stripe:", "evt_2", "stripe:evt_2", 60_000));
    for (const spelling of [`${start}0${digits}`, `${start}+${digits}`, `${start}${digits} `, `${start}${digits}.0`, `${start}${Number(digits) + 0.5}`, start, `${other.slice(0, other.lastIndexOf(".") + 1)}x`, digits, other]) {
      expect(await store.complete("stripe:evt_1", spelling, { ttlMs: 60_000 })).toBe(false);
      expect(await store.release("stripe:evt_1", spelling)).toBe(false);
    }
    // A second store's token for the same number is not this store's.
    const second = twinsOf(memoryStore());
    expect(await store.complete("stripe:evt_1", second.token(lease), { ttlMs: 60_000 })).toBe(false);
    expect(await store.complete("stripe:evt_1", token, { ttlMs: 60_000 })).toBe(true);
  });
});

describe("memoryStore: the claim's clock reading handed to the completion", () => {
  // The receiver hands its one Date.now reading to the claim and, when the handlers ran
  // synchronously, to the completion too. A reading 10 s old makes either use visible.
  it("is the completion's time when the store's clock is Date.now: the lease is live, the ttl runs from it", async () => {
    const store = memoryStore();
    const ops = twinsOf(store);
    const then = Date.now() - 10_000;
    const lease = ops.claim("stripe:", "evt_past", "stripe:evt_past", 1_000, then);
    // By the real clock this lease ran out 9 s ago; by the reading given, it is live.
    expect(ops.complete("stripe:evt_past", lease, 5_000, then)).toBe(true);
    // Completed at `then` for 5 s: gone by now, so the key can be claimed again.
    expect(status(ops.claim("stripe:", "evt_past", "stripe:evt_past", 1_000))).toBe("claimed");
  });

  it("is not taken without it: the completion reads the clock", () => {
    const store = memoryStore();
    const ops = twinsOf(store);
    const then = Date.now() - 10_000;
    const lease = ops.claim("stripe:", "evt_past", "stripe:evt_past", 1_000, then);
    expect(ops.complete("stripe:evt_past", lease, 60_000)).toBe(false);
    expect(status(ops.claim("stripe:", "evt_past", "stripe:evt_past", 1_000))).toBe("claimed");
  });

  it("is ignored by a store with its own clock", () => {
    let now = 50_000;
    const store = memoryStore({ now: () => now });
    const ops = twinsOf(store);
    const lease = ops.claim("stripe:", "evt_own", "stripe:evt_own", 1_000, Date.now());
    now += 2_000;
    expect(ops.complete("stripe:evt_own", lease, 60_000, Date.now())).toBe(false);
  });
});

describe("memoryStore: the synchronous completion of the last claim", () => {
  // Found by the model property test (CI, session 16): the twin took the last claim's slot for
  // any key whose caller passed that claim's lease number.
  it("completes the last claim only for its own key", async () => {
    const store = memoryStore();
    const ops = twinsOf(store);
    const first = ops.claim("stripe:", "evt_a", "stripe:evt_a", 60_000);
    const last = ops.claim("stripe:", "evt_b", "stripe:evt_b", 60_000);
    expect(ops.complete("stripe:evt_a", last, 60_000)).toBe(false);
    expect((await store.claim("stripe:evt_b", { leaseMs: 60_000 })).status).toBe("in_progress");
    expect(ops.complete("stripe:evt_b", last, 60_000)).toBe(true);
    expect(ops.complete("stripe:evt_a", first, 60_000)).toBe(true);
  });
});
