/**
 * The idempotency store contract: three atomic operations that let any number of
 * receivers agree that each event is handled once.
 *
 * Implement it on any database in an afternoon, then run the conformance kit from
 * `hookguard/testing` against your store.
 *
 * @module
 */

/** A key's state as {@link IdempotencyStore.claim} reports it. */
export type ClaimResult =
  /** This caller now holds the lease; `token` fences its `complete` / `release`. */
  | {
      /** The key was absent (or its lease or dedupe window had expired): it is now leased to this caller. */
      readonly status: "claimed";
      /** A fresh, unguessable token; only it can `complete` or `release` this lease. */
      readonly token: string;
    }
  /** Another caller holds a live lease; try again after it expires or completes. */
  | {
      /** Another caller holds a live lease on the key. */
      readonly status: "in_progress";
    }
  /** The key was completed within its dedupe window: a duplicate delivery. */
  | {
      /** The key was completed within its dedupe window. */
      readonly status: "completed";
    };

/** Options of {@link IdempotencyStore.claim}. */
export interface ClaimOptions {
  /**
   * How long the lease lasts, in milliseconds. After that, a claimer that crashed no
   * longer blocks the key: the next `claim` wins it, with a new token.
   */
  readonly leaseMs: number;
}

/** Options of {@link IdempotencyStore.complete}. */
export interface CompleteOptions {
  /** How long the completed key is remembered (the dedupe window), in milliseconds. */
  readonly ttlMs: number;
}

/** What {@link IdempotencyStore.advanceWatermark} reports. */
export interface WatermarkResult {
  /** True when the offered value is older than the resource's watermark (nothing changed). */
  readonly stale: boolean;
  /** The resource's watermark after the call. */
  readonly latest: number;
}

/**
 * Where the receiver records which events are being handled and which are done.
 *
 * Keys are opaque strings (the receiver namespaces them); tokens are opaque strings the
 * store makes. Every method is a single atomic step on the store: no read-then-write
 * window in which two callers can both succeed.
 *
 * States of a key: absent → leased(token, expiresAt) → completed(expiresAt) → absent.
 * A lease whose time has passed counts as absent; so does a completion whose TTL has.
 *
 * A method that cannot reach the store rejects (any error): the receiver then answers 503
 * and never handles an event it could not claim.
 */
export interface IdempotencyStore {
  /**
   * Atomically: if the key is absent (or its lease expired, or its completion's TTL
   * passed), lease it to this caller for `leaseMs` with a fresh, unique token and return
   * `claimed`; if another lease is live, return `in_progress`; if completed, return
   * `completed`. Of N concurrent claims on an absent key, exactly one is `claimed`.
   */
  claim(key: string, options: ClaimOptions): Promise<ClaimResult>;

  /**
   * Atomically: if the key is leased with this `token` and the lease has not expired,
   * mark it completed for `ttlMs` and return `true`. Otherwise (the lease expired, or
   * someone else's token holds it now, or it is absent) change nothing and return `false`.
   */
  complete(key: string, token: string, options: CompleteOptions): Promise<boolean>;

  /**
   * Atomically: if the key is leased with this `token`, remove the lease so the next
   * delivery can claim it at once, and return `true`. A stale token changes nothing and
   * returns `false`.
   */
  release(key: string, token: string): Promise<boolean>;

  /**
   * Optional: the out-of-order guard. Atomically: if the key has a live watermark greater
   * than `value`, change nothing and report `stale: true`; otherwise set the watermark to
   * `value` (keeping a larger one is impossible here), renew it for `ttlMs`, and report
   * `stale: false`. An equal value is not stale (a redelivery of the newest event).
   * Watermark keys live apart from claim keys: the same string names different things.
   */
  advanceWatermark?(key: string, value: number, options: CompleteOptions): Promise<WatermarkResult>;
}
