// The in-process fast path of a store whose operations finish at once (memoryStore): the
// receiver calls these synchronous twins instead of awaiting two promises per event. Only
// while the store's `claim` and `complete` are still the ones registered: a store wrapped,
// spread into a new object or patched afterwards goes through its async methods as usual.
import type { IdempotencyStore } from "../store";

/** The synchronous claim's answer for a key already completed (a claim answers its lease's number, > 0). */
export const CLAIM_COMPLETED = 0;
/** The synchronous claim's answer for a key leased to another delivery. */
export const CLAIM_IN_PROGRESS = -1;

/**
 * Synchronous twins of a store's `claim` and `complete`: same checks, same state, same
 * errors. A lease is named by a number here, not a string: the async API's token for it is
 * `token(lease)`, so a claim that completes at once never builds one.
 */
export interface SyncStoreOps {
  /**
   * Claims `key`, given as its two parts too (`key === prefix + id`): it is hashed from them,
   * without reading `key`. The lease's number (> 0), or {@link CLAIM_COMPLETED} /
   * {@link CLAIM_IN_PROGRESS}. `dateNow`: a `Date.now()` the caller just read, which the
   * store takes for its own reading when its clock is `Date.now`.
   */
  claim(prefix: string, id: string, key: string, leaseMs: number, dateNow?: number): number;
  /**
   * `complete(key, token(lease), { ttlMs })`, answered at once. `dateNow`: the reading of
   * Date.now the claim was given, passed only when nothing else ran since the claim (one
   * synchronous run): the store then takes it for the completion's time when its clock is
   * `Date.now`, so the lease counts as live and the key's `ttlMs` runs from the claim.
   */
  complete(key: string, lease: number, ttlMs: number, dateNow?: number): boolean;
  /** The token the store's async API knows the lease by. */
  token(lease: number): string;
}

interface Registered {
  readonly ops: SyncStoreOps;
  readonly asyncClaim: IdempotencyStore["claim"];
  readonly asyncComplete: IdempotencyStore["complete"];
}

const registry = new WeakMap<object, Registered>();

/** Registers `ops` as the synchronous twins of `store`'s current `claim` and `complete`. */
export function registerSyncOps(store: IdempotencyStore, ops: SyncStoreOps): void {
  registry.set(store, { ops, asyncClaim: store.claim, asyncComplete: store.complete });
}

/** A store's synchronous twins, as the receiver holds them. */
export interface SyncTwins {
  /** The twins while `store` still has the `claim` and `complete` they twin (two property reads, no lookup), else `undefined`. */
  current(): SyncStoreOps | undefined;
  /** The async token of a lease the twins numbered, even once the store's methods were replaced. */
  token(lease: number): string;
}

/** The store's synchronous twins, checked once: `undefined` when it never had any. */
export function syncTwins(store: IdempotencyStore): SyncTwins | undefined {
  const registered = registry.get(store);
  if (registered === undefined) return undefined;
  const { ops, asyncClaim, asyncComplete } = registered;
  return {
    current: () => (asyncClaim === store.claim && asyncComplete === store.complete ? ops : undefined),
    token: ops.token,
  };
}
