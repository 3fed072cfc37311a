/**
 * An idempotency store on Redis (or any server speaking its protocol with Lua scripting:
 * Valkey, KeyDB, Dragonfly…), shared by every process that receives the same webhooks.
 * Takes the ioredis or node-redis client you already have; imports neither.
 *
 * ```ts
 * import { redisStore } from "hookguard/redis";
 * ```
 *
 * @module hookguard/redis
 */
import type { ClaimResult, IdempotencyStore, WatermarkResult } from "../store";
import { digest, resolveCrypto } from "../internal/crypto";
import { bytesToHex } from "../internal/encoding";
import { durationMs, newToken } from "./validate";

type ScriptArg = string;

/**
 * The part of an ioredis client (`Redis` or `Cluster`, ioredis 5+) that {@link redisStore}
 * uses: `eval` / `evalsha` with the key count first.
 */
export interface IoRedisLikeClient {
  /** `EVAL script numKeys ...keys ...args`. */
  eval(script: string, numKeys: number, ...keysAndArgs: ScriptArg[]): Promise<unknown>;
  /** `EVALSHA sha1 numKeys ...keys ...args`; rejects with `NOSCRIPT…` when Redis lost the script. */
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: ScriptArg[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()` or `createCluster()`, redis 4 and 5)
 * that {@link redisStore} uses: `eval` / `evalSha` with `{ keys, arguments }`.
 */
export interface NodeRedisLikeClient {
  /** `EVAL`, with the keys and arguments in an options object. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `EVALSHA`, with the keys and arguments in an options object. */
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A connected ioredis or node-redis client. Typed by shape: hookguard imports neither. */
export type RedisLikeClient = IoRedisLikeClient | NodeRedisLikeClient;

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client: ioredis (`new Redis(url)`) or node-redis (`await
   * createClient({ url }).connect()`). The store never connects, quits or reconfigures it.
   */
  readonly client: RedisLikeClient;
  /**
   * Prepended to every key, so hookguard's keys are easy to find and never collide with
   * your own.
   *
   * @default "hookguard:"
   */
  readonly prefix?: string;
}

// Value layout, one string key per idempotency key (`<prefix><key>`):
//   "L:<token>"  a lease held by <token>; PX = leaseMs, so Redis expires a crashed claim
//   "C"          completed; PX = ttlMs, the dedupe window
// Expiry is Redis's own clock: every receiver agrees on it whatever its local clock says.
// Each operation is one script: read and write in one atomic step, one round trip.

// Returns 1 = claimed, 2 = in progress, 3 = completed. An expired key is gone, so claimable.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'L:' .. ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == 'C' then return 3 end
return 2`;

// Compare-and-set on the token: only the live lease's holder can complete it.
const COMPLETE = `if redis.call('GET', KEYS[1]) == 'L:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'C', 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE = `if redis.call('GET', KEYS[1]) == 'L:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

// The out-of-order guard: keep the larger value. Returns {1, latest} when the offered value
// is older than the watermark (stale), {0, latest} after advancing or renewing it. Values
// travel as strings and compare as Lua numbers (doubles: exact for epoch ms).
const ADVANCE = `local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return {1, v} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {0, ARGV[1]}`;

const IN_PROGRESS: ClaimResult = Object.freeze({ status: "in_progress" });
const COMPLETED: ClaimResult = Object.freeze({ status: "completed" });

type Eval = (script: string, key: string, args: string[]) => Promise<unknown>;

function evaluator(client: RedisLikeClient): { evalScript: Eval; evalSha: Eval } {
  const c = client as unknown as Record<string, unknown>;
  // node-redis spells it evalSha (and EVALSHA); ioredis spells it evalsha.
  if (typeof c.evalSha === "function" && typeof c.eval === "function") {
    const nr = client as NodeRedisLikeClient;
    return {
      evalScript: (script, key, args) => nr.eval(script, { keys: [key], arguments: args }),
      evalSha: (sha, key, args) => nr.evalSha(sha, { keys: [key], arguments: args }),
    };
  }
  if (typeof c.evalsha === "function" && typeof c.eval === "function") {
    const io = client as IoRedisLikeClient;
    return {
      evalScript: (script, key, args) => io.eval(script, 1, key, ...args),
      evalSha: (sha, key, args) => io.evalsha(sha, 1, key, ...args),
    };
  }
  throw new TypeError(
    "hookguard: redisStore({ client }) needs an ioredis client (new Redis(url)) or a connected node-redis client (await createClient({ url }).connect()); the object given has neither eval/evalsha nor eval/evalSha",
  );
}

async function sha1Hex(text: string): Promise<string> {
  return bytesToHex(await digest("sha1", [text], resolveCrypto(undefined)));
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * A Lua script run by EVALSHA, one round trip. Its first run goes by EVAL instead (which
 * also loads it into Redis's script cache), so no call pays for a NOSCRIPT miss unless
 * Redis lost its cache since (a restart, a failover, SCRIPT FLUSH): that call then takes
 * a second round trip, by EVAL.
 */
function script(source: string, run: { evalScript: Eval; evalSha: Eval }): (key: string, args: string[]) => Promise<unknown> {
  let sha: string | undefined;
  return async (key, args) => {
    if (sha === undefined) {
      const hashing = sha1Hex(source);
      const reply = await run.evalScript(source, key, args);
      sha = await hashing;
      return reply;
    }
    try {
      return await run.evalSha(sha, key, args);
    } catch (e) {
      if (!isNoScript(e)) throw e;
      return run.evalScript(source, key, args);
    }
  };
}

function unexpected(op: string, reply: unknown): Error {
  return new Error(`hookguard: redisStore ${op} got an unexpected reply from Redis: ${JSON.stringify(reply)}`);
}

/**
 * Creates an idempotency store on Redis, shared by every process that receives the same
 * webhooks. Takes an ioredis or a node-redis (v4/v5) client; hookguard imports neither.
 *
 * Each operation is one Lua script, so one atomic step and one round trip (EVALSHA; the
 * first call of each script per store uses EVAL, which loads it). Leases and completed keys
 * expire by Redis's own clock (`PX`), so many machines agree and nothing needs cleaning.
 *
 * Key layout: one string per idempotency key, `<prefix><key>`, holding `L:<token>` while
 * leased (expires after `leaseMs`) or `C` once completed (expires after `ttlMs`). With
 * Redis Cluster each operation touches that single key, so any slot works.
 *
 * Setup: memory for one small key per event in the dedupe window. Run Redis with an
 * eviction policy that does not evict these keys early (`noeviction` or `volatile-ttl`
 * rather than `allkeys-lru`), or a duplicate can slip through, and with persistence if a
 * restart must not forget completed events.
 *
 * Subpath: `hookguard/redis`.
 *
 * @example ioredis
 * ```ts
 * import { Redis } from "ioredis";
 * import { redisStore } from "hookguard/redis";
 *
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL!) });
 * const receiver = createWebhookReceiver({ scheme, store });
 * ```
 *
 * @example node-redis
 * ```ts
 * import { createClient } from "redis";
 * import { redisStore } from "hookguard/redis";
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store = redisStore({ client, prefix: "myapp:webhooks:" });
 * ```
 */
export function redisStore(options: RedisStoreOptions): IdempotencyStore & {
  /** The out-of-order guard's watermarks, under `<prefix>wm:<key>`; kept for `ttlMs`. */
  advanceWatermark(key: string, value: number, options: { ttlMs: number }): Promise<WatermarkResult>;
} {
  const { client, prefix = "hookguard:" } = options ?? ({} as RedisStoreOptions);
  if (typeof client !== "object" || client === null) {
    throw new TypeError("hookguard: redisStore() needs `client`: an ioredis client (new Redis(url)) or a connected node-redis client");
  }
  if (typeof prefix !== "string") throw new TypeError(`hookguard: redisStore({ prefix }) must be a string; got ${typeof prefix}`);
  const run = evaluator(client);
  const claimScript = script(CLAIM, run);
  const completeScript = script(COMPLETE, run);
  const releaseScript = script(RELEASE, run);
  const advanceScript = script(ADVANCE, run);

  return {
    async claim(key, claimOptions) {
      const leaseMs = durationMs(claimOptions?.leaseMs, "leaseMs", "redisStore().claim(key, { leaseMs })");
      const token = newToken();
      const reply = await claimScript(prefix + key, [token, String(leaseMs)]);
      if (reply === 1) return { status: "claimed", token };
      if (reply === 2) return IN_PROGRESS;
      if (reply === 3) return COMPLETED;
      throw unexpected("claim", reply);
    },

    async complete(key, token, completeOptions) {
      const ttlMs = durationMs(completeOptions?.ttlMs, "ttlMs", "redisStore().complete(key, token, { ttlMs })");
      const reply = await completeScript(prefix + key, [String(token), String(ttlMs)]);
      if (reply === 1 || reply === 0) return reply === 1;
      throw unexpected("complete", reply);
    },

    async release(key, token) {
      const reply = await releaseScript(prefix + key, [String(token)]);
      if (reply === 1 || reply === 0) return reply === 1;
      throw unexpected("release", reply);
    },

    async advanceWatermark(key, value, watermarkOptions) {
      const ttlMs = durationMs(watermarkOptions?.ttlMs, "ttlMs", "redisStore().advanceWatermark(key, value, { ttlMs })");
      if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError("hookguard: redisStore().advanceWatermark(key, value) needs a finite number");
      // `wm:` keeps watermarks apart from claims that happen to share the key string.
      const reply = await advanceScript(`${prefix}wm:${key}`, [String(value), String(ttlMs)]);
      if (Array.isArray(reply) && (reply[0] === 0 || reply[0] === 1)) return { stale: reply[0] === 1, latest: Number(reply[1]) };
      throw unexpected("advanceWatermark", reply);
    },
  };
}
