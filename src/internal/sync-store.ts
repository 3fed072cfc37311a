// The in-process fast path of a store whose operations finish at once (memoryStore): the
// receiver calls these synchronous twins instead of awaiting two promises per event. Only
// while the store's `claim` and `complete` are still the ones registered: a store wrapped,
// spread into a new object or patched afterwards goes through its async methods as usual.
import type { ClaimResult, IdempotencyStore } from "../store";

/** Synchronous twins of a store's `claim` and `complete`: same checks, same results, same errors. */
export interface SyncStoreOps {
  /** Claims `key`, given as its two parts too (`key === prefix + id`): it is hashed from them, without reading `key`. */
  claim(prefix: string, id: string, key: string, leaseMs: number): ClaimResult;
  complete(key: string, token: string, ttlMs: number): boolean;
}

interface Registered extends SyncStoreOps {
  readonly asyncClaim: IdempotencyStore["claim"];
  readonly asyncComplete: IdempotencyStore["complete"];
}

const registry = new WeakMap<object, Registered>();

/** Registers `ops` as the synchronous twins of `store`'s current `claim` and `complete`. */
export function registerSyncOps(store: IdempotencyStore, ops: SyncStoreOps): void {
  registry.set(store, { claim: ops.claim, complete: ops.complete, asyncClaim: store.claim, asyncComplete: store.complete });
}

/**
 * A check, made once, that says per call whether `store` still has its synchronous twins
 * (two property reads, no lookup): `undefined` when it never had any.
 */
export function syncTwins(store: IdempotencyStore): (() => SyncStoreOps | undefined) | undefined {
  const ops = registry.get(store);
  if (ops === undefined) return undefined;
  return () => (ops.asyncClaim === store.claim && ops.asyncComplete === store.complete ? ops : undefined);
}
