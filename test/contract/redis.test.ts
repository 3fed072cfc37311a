// redisStore against the real Redis, through both client libraries.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisStore, type RedisLikeClient } from "../../src/stores/redis";
import { redisAvailable, redisUrl } from "../helpers/services";
import { itKeepsTheStoreContract } from "./conformance-suite";

const available = await redisAvailable();
// Unique per run: test files run in parallel against the one shared Redis.
const runPrefix = `hookguard-test:${randomUUID()}:`;

/** Counts the script calls a store makes: each is one round trip to Redis. */
function counting<T extends object>(client: T): { client: T; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: proxy, calls };
}

async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

describe.skipIf(!available)("redisStore", () => {
  let io: Redis;
  let nodeRedis: Awaited<ReturnType<ReturnType<typeof createClient>["connect"]>>;

  beforeAll(async () => {
    io = new Redis(redisUrl);
    nodeRedis = await createClient({ url: redisUrl }).connect();
  });

  afterAll(async () => {
    await removeKeys(io, runPrefix);
    io.disconnect();
    await nodeRedis.close();
  });

  describe("with ioredis: conformance", () => {
    itKeepsTheStoreContract(() => redisStore({ client: io, prefix: `${runPrefix}io:` }));
  });

  describe("with node-redis: conformance", () => {
    itKeepsTheStoreContract(() => redisStore({ client: nodeRedis, prefix: `${runPrefix}nr:` }));
  });

  describe.each([
    ["ioredis", () => io as RedisLikeClient],
    ["node-redis", () => nodeRedis as RedisLikeClient],
  ] as const)("with %s", (_name, client) => {
    it("keeps the documented layout: L:<token> for leaseMs, then C for ttlMs", async () => {
      const prefix = `${runPrefix}layout:${randomUUID()}:`;
      const store = redisStore({ client: client(), prefix });
      const r = await store.claim("evt_1", { leaseMs: 30_000 });
      if (r.status !== "claimed") throw new Error(`claim: ${r.status}`);
      expect(await io.get(`${prefix}evt_1`)).toBe(`L:${r.token}`);
      expect(await io.pttl(`${prefix}evt_1`)).toBeGreaterThan(29_000);
      expect(await store.complete("evt_1", r.token, { ttlMs: 3_600_000 })).toBe(true);
      expect(await io.get(`${prefix}evt_1`)).toBe("C");
      const pttl = await io.pttl(`${prefix}evt_1`);
      expect(pttl).toBeGreaterThan(3_590_000);
      expect(pttl).toBeLessThanOrEqual(3_600_000);
      const released = await store.claim("evt_2", { leaseMs: 30_000 });
      if (released.status !== "claimed") throw new Error("claim");
      expect(await store.release("evt_2", released.token)).toBe(true);
      expect(await io.exists(`${prefix}evt_2`)).toBe(0);
    });

    it("uses the default prefix hookguard:", async () => {
      const key = `${runPrefix}default-prefix:${randomUUID()}`;
      const r = await redisStore({ client: client() }).claim(key, { leaseMs: 5_000 });
      expect(r.status).toBe("claimed");
      expect(await io.get(`hookguard:${key}`)).toMatch(/^L:/);
      await io.del(`hookguard:${key}`);
    });

    it("takes one round trip per operation: EVAL on a script's first call, then EVALSHA", async () => {
      const { client: counted, calls } = counting(client());
      const store = redisStore({ client: counted, prefix: `${runPrefix}trips:${randomUUID()}:` });
      for (let i = 0; i < 3; i++) {
        const r = await store.claim(`k${i}`, { leaseMs: 30_000 });
        if (r.status !== "claimed") throw new Error("claim");
        await store.complete(`k${i}`, r.token, { ttlMs: 30_000 });
        await store.claim(`k${i}`, { leaseMs: 30_000 });
        await store.release(`k${i}`, r.token);
      }
      const evalName = calls[0]!;
      const shaName = calls.find((c) => c !== evalName)!;
      expect(evalName).toBe("eval");
      expect(shaName.toLowerCase()).toBe("evalsha");
      // 12 operations, 12 calls: the first claim, complete and release go by EVAL.
      expect(calls).toHaveLength(12);
      expect(calls.filter((c) => c === "eval")).toHaveLength(3);
    });

    it("recovers from a flushed script cache (restart, failover) with EVAL, one extra round trip", async () => {
      const { client: counted, calls } = counting(client());
      const store = redisStore({ client: counted, prefix: `${runPrefix}flush:${randomUUID()}:` });
      expect((await store.claim("a", { leaseMs: 30_000 })).status).toBe("claimed");
      expect((await store.claim("b", { leaseMs: 30_000 })).status).toBe("claimed");
      await io.script("FLUSH");
      calls.length = 0;
      expect((await store.claim("a", { leaseMs: 30_000 })).status).toBe("in_progress");
      expect(calls.map((c) => c.toLowerCase())).toEqual(["evalsha", "eval"]);
      calls.length = 0;
      expect((await store.claim("c", { leaseMs: 30_000 })).status).toBe("claimed");
      expect(calls.map((c) => c.toLowerCase())).toEqual(["evalsha"]);
    });
  });

  it("shares state between ioredis and node-redis clients on the same prefix", async () => {
    const prefix = `${runPrefix}shared:`;
    const viaIo = redisStore({ client: io, prefix });
    const viaNode = redisStore({ client: nodeRedis, prefix });
    const r = await viaIo.claim("evt", { leaseMs: 30_000 });
    if (r.status !== "claimed") throw new Error("claim");
    expect(await viaNode.claim("evt", { leaseMs: 30_000 })).toEqual({ status: "in_progress" });
    expect(await viaNode.complete("evt", r.token, { ttlMs: 30_000 })).toBe(true);
    expect(await viaIo.claim("evt", { leaseMs: 30_000 })).toEqual({ status: "completed" });
  });

  it("rejects (so the receiver answers 503) when Redis cannot be reached", async () => {
    const down = new Redis({ host: "127.0.0.1", port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on("error", () => {});
    const store = redisStore({ client: down });
    await expect(store.claim("evt", { leaseMs: 1000 })).rejects.toThrow();
    down.disconnect();
  });

  it("passes Redis errors through rather than guessing an answer", async () => {
    const prefix = `${runPrefix}wrongtype:`;
    await io.rpush(`${prefix}evt`, "not a string");
    await expect(redisStore({ client: io, prefix }).claim("evt", { leaseMs: 1000 })).rejects.toThrow(/WRONGTYPE/);
  });
});

describe("redisStore: options (no server needed)", () => {
  it("rejects a missing or unrecognised client, naming it", () => {
    expect(() => redisStore(undefined as never)).toThrow(/client/);
    expect(() => redisStore({ client: undefined as never })).toThrow(/client/);
    expect(() => redisStore({ client: { get() {} } as never })).toThrow(/ioredis.*node-redis/);
  });

  it("rejects a prefix that is not a string, naming it", () => {
    const client = { eval: async () => 1, evalsha: async () => 1 };
    expect(() => redisStore({ client, prefix: 5 as never })).toThrow(/prefix/);
  });

  it("rejects a bad leaseMs or ttlMs before any round trip", async () => {
    let calls = 0;
    const client = {
      eval: async () => ++calls,
      evalsha: async () => ++calls,
    };
    const store = redisStore({ client });
    await expect(store.claim("k", { leaseMs: 0 })).rejects.toThrow(/leaseMs/);
    await expect(store.complete("k", "t", { ttlMs: Number.NaN })).rejects.toThrow(/ttlMs/);
    expect(calls).toBe(0);
  });

  it("refuses an unexpected reply instead of treating it as an answer", async () => {
    const store = redisStore({ client: { eval: async () => null, evalsha: async () => null } });
    await expect(store.claim("k", { leaseMs: 1000 })).rejects.toThrow(/unexpected reply/);
    await expect(store.complete("k", "t", { ttlMs: 1000 })).rejects.toThrow(/unexpected reply/);
  });
});
