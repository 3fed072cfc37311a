/**
 * The embedded idempotency store: one process, no dependencies, bounded memory.
 *
 * @module
 */
import { WebhookError } from "../errors";
import type { ClaimResult, IdempotencyStore, WatermarkResult } from "../store";
import { CLAIM_COMPLETED, CLAIM_IN_PROGRESS, registerSyncOps } from "../internal/sync-store";
import { durationMs, newToken } from "./validate";

/**
 * Fencing tokens of one memory store: a random prefix (one UUID per store) and a counter.
 * Unique within the store, which is all a token of a single process's store must be, and
 * not guessable from outside it; a counter costs a tenth of a UUID per claim.
 */
function tokenPrefix(): string {
  return `${newToken()}.`;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most keys held at once (leases and completed keys together). When the store is
   * full, a new claim first evicts the oldest completed key (or an expired one); live
   * leases are never evicted. Size it above the number of distinct events you receive
   * within one `ttlMs` dedupe window, or duplicates older than the eviction horizon are
   * handled again.
   *
   * @default 100_000
   */
  readonly maxEntries?: number;
  /**
   * The clock, in epoch milliseconds. Inject one in tests to expire leases and completed
   * keys without waiting.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

/** The store {@link memoryStore} returns: an {@link IdempotencyStore} that can tell its size. */
export interface MemoryStore extends IdempotencyStore {
  advanceWatermark(key: string, value: number, options: { ttlMs: number }): Promise<WatermarkResult>;
  /** How many keys (leases and completed keys, expired ones not yet dropped) it holds now. */
  readonly size: number;
}

// Claims live in slots whose fields are columns of typed arrays. A slot sits in exactly one
// of two lists, the leases in claim order or the completed keys in completion order, doubly
// linked through `prev`/`next` so that dropping any entry and evicting the oldest are O(1).
//
// Keys live in typed arrays too, not in a Map of strings: a key of up to KEY_CHARS Latin-1
// characters (every provider's ids, namespaced) is copied into its slot's row of `chars`,
// and an open-addressing table (linear probing, at most half full, backward-shift deletion)
// finds a slot from the key's hash. Keys are compared in full, so the store stays exact; a
// longer or non-Latin-1 key is kept as a string beside its slot. With a Map, every key was a
// string the garbage collector promoted and traced for as long as the store held it: at
// 100 000 keys 22.8 MB of heap, now 1.1 MB of heap and 10.6 MB of typed arrays it never
// traces, and claim + complete in a full store went from 1.24 to 0.99 µs (from 0.64 to
// 0.93 µs in a store of 1 000 keys: hashing in JavaScript is slower than V8's own hash).
// Each key's characters are read from the string once, hashed and copied in one pass.
const NONE = -1;
/** Characters of a key kept in the slot's row; longer keys are kept as strings. */
const KEY_CHARS = 64;
/** `lengths[slot]` of a key kept as a string. */
const LONG = -1;

interface Slots {
  /** The list's first and last slot, or NONE. */
  head: number;
  tail: number;
}

// Watermarks are rare (only receivers with `ordering`): plain linked objects.
interface Linked<E> {
  prev: E | undefined;
  next: E | undefined;
}

interface List<E extends Linked<E>> {
  head: E | undefined;
  tail: E | undefined;
}

function append<E extends Linked<E>>(list: List<E>, e: E): void {
  e.prev = list.tail;
  e.next = undefined;
  if (list.tail) list.tail.next = e;
  else list.head = e;
  list.tail = e;
}

function unlink<E extends Linked<E>>(list: List<E>, e: E): void {
  if (e.prev) e.prev.next = e.next;
  else list.head = e.next;
  if (e.next) e.next.prev = e.prev;
  else list.tail = e.prev;
  e.prev = e.next = undefined;
}

/** A resource's watermark, in the list of watermarks by last advance. */
interface Watermark extends Linked<Watermark> {
  readonly key: string;
  value: number;
  expiresAt: number;
}

/** FNV-1a's prime: each character is mixed in by xor, then multiplied by it. */
const FNV_PRIME = 0x01000193;

/**
 * MurmurHash3's finaliser, after FNV-1a over the key's UTF-16 code units from a per-store
 * random seed: the low bits (the table index) depend on every character.
 */
function finalise(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** `wider` with `column`'s values at its start. */
function widened<T extends Float64Array | Int32Array | Int8Array | Uint8Array>(column: T, wider: T): T {
  wider.set(column);
  return wider;
}

const IN_PROGRESS: ClaimResult = Object.freeze({ status: "in_progress" });
const COMPLETED: ClaimResult = Object.freeze({ status: "completed" });

/**
 * Creates the embedded store the receiver uses by default: claims live in this process's
 * memory, so it deduplicates deliveries that reach this process only. Use `redisStore`
 * (`hookguard/redis`) or `postgresStore` (`hookguard/postgres`) when several processes
 * receive the same webhooks.
 *
 * Every operation is O(1) (amortized: expired keys are dropped lazily, as operations meet
 * them). Memory is bounded by `maxEntries` whatever the number of events: about 113 bytes
 * per entry, in typed arrays the garbage collector does not trace (11.3 MB at the default
 * 100 000), plus the key itself for keys longer than 64 characters or outside Latin-1.
 *
 * - When full, a claim on a new key evicts the oldest completed key, or else an expired
 *   lease. An evicted completed key is forgotten before its `ttlMs`: a duplicate of it
 *   would be handled again, so size `maxEntries` for your traffic.
 * - A live lease is never evicted: that would let a second delivery run the handlers
 *   while the first still runs. If every entry is a live lease, `claim` rejects with a
 *   {@link WebhookError} of code `"store_unavailable"` and status 503; the receiver then
 *   answers 503 and the provider retries later, when leases have completed or expired.
 *
 * Tokens are one `crypto.randomUUID()` per store followed by a counter: unique within the
 * store and unguessable from outside it.
 *
 * Subpath: `hookguard`.
 *
 * @example
 * ```ts
 * import { createWebhookReceiver, memoryStore, stripe } from "hookguard";
 *
 * const receiver = createWebhookReceiver({
 *   scheme: stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }),
 *   store: memoryStore({ maxEntries: 50_000 }),
 * });
 * ```
 *
 * @example Expiring leases in a test without waiting
 * ```ts
 * let now = 0;
 * const store = memoryStore({ now: () => now });
 * await store.claim("evt_1", { leaseMs: 1000 }); // → claimed
 * now += 1001; // the first claimer "crashed"
 * await store.claim("evt_1", { leaseMs: 1000 }); // → { status: "claimed", token: … }
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return memoryStoreHashing(options, undefined);
}

/** Slots of a store's first columns (grown by doubling, up to maxEntries): see the columns below. */
const FIRST_SLOTS = 1024;

/**
 * {@link memoryStore} with the key hash given: tests hand it a poor one, so that keys collide,
 * probe past each other and wrap around the table on every run, and few first slots, so that
 * a few keys make the columns grow several times. `undefined` is the store's own hash. Not
 * exported from the package.
 * @internal
 */
export function memoryStoreHashing(options: MemoryStoreOptions, hashOf: ((key: string, seed: number) => number) | undefined, firstSlots = FIRST_SLOTS): MemoryStore {
  const { maxEntries = 100_000, now = Date.now } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError(`hookguard: memoryStore({ maxEntries }) must be a positive integer; got ${String(maxEntries)}`);
  }
  if (typeof now !== "function") {
    throw new TypeError("hookguard: memoryStore({ now }) must be a function returning epoch milliseconds, like Date.now");
  }

  const dateClock = now === Date.now;
  const tokenStart = tokenPrefix();
  // Claims are numbered from 1: a lease's number is its token (the string token is
  // `tokenStart` and the number), kept in the slot's `leaseNo`, 0 once the key is completed.
  let lastLease = 0;

  // Columns by slot: one typed array each, FIRST_SLOTS long at first (a store that holds 200
  // keys allocates room for 1 024, not 100 000), doubled as the store grows, up to
  // maxEntries; a full store never grows again. One array per column, not chunks of 1 024
  // slots as in sessions 6-15, where every read of a slot's field was two (the chunk, then
  // the field): claim + complete in a full store of 100 000 keys 0.84-0.90× the time, in one
  // of 128 keys 0.89-1.01× (alternating A/B, session 16). The price is paid once, while a
  // store fills: copying touches more fresh pages (filling 100 000 keys in a new process:
  // 7 700 page faults, from 4 600 with chunks).
  // `leaseNo` holds a lease's number, 0 once the key is completed: a column like the others,
  // so a claim stores no string in an array the collector traces (the write barrier, and
  // turning the counter into a string, cost ~700 instructions per claim).
  let capacity = 0;
  let count = 0;
  /** Keys kept as strings (longer than KEY_CHARS, or not Latin-1), by slot; sparse. */
  const longKeys: (string | undefined)[] = [];
  let expiresAt = new Float64Array(0);
  let leaseNo = new Float64Array(0);
  let prev = new Int32Array(0);
  let next = new Int32Array(0);
  let hashes = new Int32Array(0);
  /** The key's length in `chars`, or LONG. */
  let lengths = new Int8Array(0);
  /** KEY_CHARS bytes per slot: the key's characters. */
  let chars = new Uint8Array(0);
  // The table: per bucket, slot + 1 (0 for an empty one) and the key's hash, side by side, so
  // that a probe compares hashes without reading a slot's column (a cache miss each, in a
  // store of 100 000 keys); a power of two buckets, at least twice the slots, so that probes
  // stay short.
  let table = new Int32Array(0);
  let mask = 0;
  const seed = (Math.random() * 0x100000000) | 0;
  let used = 0;
  // Freed slots, chained through `next`.
  let free = NONE;
  const leases: Slots = { head: NONE, tail: NONE };
  const completed: Slots = { head: NONE, tail: NONE };
  const watermarks = new Map<string, Watermark>();
  const watermarkOrder: List<Watermark> = { head: undefined, tail: undefined };
  // Earliest expiry among live leases, as far as we know (it may be earlier than the truth,
  // never later): a full store of live leases rejects in O(1) until then, and is swept once
  // after.
  let nextLeaseExpiry = -Infinity;
  // The slot of the last claim: the receiver completes what it just claimed, and the
  // synchronous `complete` then finds the slot by its lease number without hashing the key.
  let lastSlot = NONE;
  // The key of that claim: the slot is taken for a completion of this same key only (a lease
  // number another key's caller passes must not complete it).
  let lastKey: string | undefined;
  // The key being looked up, as `hash` leaves it: its characters when it fits a row
  // (`scratchLength` of them), else `scratchLength` is LONG. Compared against the rows and
  // copied into a new slot's row, so each key's characters are read from the string once.
  const scratch = new Uint8Array(KEY_CHARS);
  let scratchLength = LONG;

  /** Doubles the columns (the first time FIRST_SLOTS, never past maxEntries), and the table as needed. */
  function grow(): void {
    // makeRoom keeps the store below maxEntries before each new slot: maxEntries slots suffice.
    const size = Math.min(Math.max(firstSlots, 2 * capacity), maxEntries);
    expiresAt = widened(expiresAt, new Float64Array(size));
    leaseNo = widened(leaseNo, new Float64Array(size));
    prev = widened(prev, new Int32Array(size));
    next = widened(next, new Int32Array(size));
    hashes = widened(hashes, new Int32Array(size));
    lengths = widened(lengths, new Int8Array(size));
    chars = widened(chars, new Uint8Array(size * KEY_CHARS));
    capacity = size;
    let buckets = Math.max(2, mask + 1);
    while (buckets < 2 * capacity) buckets *= 2;
    if (buckets !== mask + 1) {
      const old = table;
      table = new Int32Array(2 * buckets);
      mask = buckets - 1;
      for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) place(old[i]! - 1, old[i + 1]!);
    }
  }

  /** Puts the slot, whose key hashes to `h`, in the first empty bucket from the key's home. */
  function place(slot: number, h: number): void {
    let i = h & mask;
    while (table[2 * i] !== 0) i = (i + 1) & mask;
    table[2 * i] = slot + 1;
    table[2 * i + 1] = h;
  }

  /** Takes the slot out of the table, shifting back the entries after it that may move closer to home. */
  function displace(slot: number): void {
    let hole = hashes[slot]! & mask;
    while (table[2 * hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let i = (hole + 1) & mask; table[2 * i] !== 0; i = (i + 1) & mask) {
      const home = table[2 * i + 1]! & mask;
      // The entry at i may fill the hole unless its home lies cyclically in (hole, i].
      if (hole <= i ? home <= hole || home > i : home <= hole && home > i) {
        table[2 * hole] = table[2 * i]!;
        table[2 * hole + 1] = table[2 * i + 1]!;
        hole = i;
      }
    }
    table[2 * hole] = 0;
  }

  // Set by `absorb`: whether the characters it read all fit (Latin-1, within the row).
  let absorbFits = false;

  /**
   * FNV-1a over `s`'s UTF-16 code units from state `h`; when `fits`, also copies them into
   * `row` from `at`, and `absorbFits` then says whether all were Latin-1. Each character is
   * read once for both. No test inside the loop: a code unit beyond Latin-1 is stored
   * truncated and found afterwards in the OR of all of them (1.5× faster per key than
   * testing each one).
   */
  function absorb(s: string, h: number, row: Uint8Array, at: number, fits: boolean): number {
    const n = s.length;
    if (fits) {
      let all = 0;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        all |= c;
        row[at + i] = c;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      absorbFits = all <= 0xff;
    } else {
      for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
      absorbFits = false;
    }
    return h;
  }

  /** The key's hash, leaving its characters in `scratch` when they fit a row. */
  function hash(key: string): number {
    const n = key.length;
    scratchPrefix = undefined;
    const h = absorb(key, seed, scratch, 0, n <= KEY_CHARS);
    scratchLength = absorbFits ? n : LONG;
    return hashOf === undefined ? finalise(h) : hashOf(key, seed) | 0;
  }

  // The prefix `hashParts` last read (the receiver's namespace, `stripe:`): the hash state
  // after it, its characters, and whether they fit a row. Read once per prefix, not per key.
  let prefixRead: string | undefined;
  let prefixState = 0;
  let prefixFits = false;
  const prefixChars = new Uint8Array(KEY_CHARS);
  // The prefix whose characters `scratch` starts with: a key of the same prefix copies none
  // (one native copy fewer per claim; `hash` writes over them).
  let scratchPrefix: string | undefined;

  /**
   * {@link hash} of `keyPrefix + keyId`, from its two parts. The receiver's key is its
   * namespace and the event id joined: a concatenated string that reading character by
   * character would first flatten (a copy in the runtime) and then read through the join —
   * 1,800 instructions more per claim + complete than the parts, each a flat string, for a
   * Stripe-shaped key.
   */
  function hashParts(keyPrefix: string, keyId: string, key: string): number {
    if (hashOf !== undefined) return hash(key);
    const p = keyPrefix.length;
    if (keyPrefix !== prefixRead) {
      prefixState = absorb(keyPrefix, seed, prefixChars, 0, p <= KEY_CHARS);
      prefixFits = absorbFits;
      prefixRead = keyPrefix;
    }
    const n = p + keyId.length;
    const fits = prefixFits && n <= KEY_CHARS;
    if (fits && scratchPrefix !== keyPrefix) {
      scratch.set(prefixChars);
      scratchPrefix = keyPrefix;
    }
    const h = absorb(keyId, prefixState, scratch, p, fits);
    scratchLength = absorbFits ? n : LONG;
    return finalise(h);
  }

  /** True if the slot holds the key `hash` last read. */
  function keyIs(slot: number, key: string): boolean {
    const length = lengths[slot]!;
    if (length !== scratchLength) return false;
    if (length === LONG) return longKeys[slot] === key;
    const at = slot * KEY_CHARS;
    for (let i = 0; i < length; i++) if (chars[at + i] !== scratch[i]) return false;
    return true;
  }

  /** The slot holding the key `hash` last read (its hash given), or NONE. */
  function find(key: string, h: number): number {
    if (count === 0) return NONE;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = table[2 * i]! - 1;
      if (slot === NONE) return NONE;
      if (table[2 * i + 1] === h && keyIs(slot, key)) return slot;
    }
  }

  /** Stores the key `hash` last read in the slot, and puts the slot in the table. */
  function keep(slot: number, key: string, h: number): void {
    hashes[slot] = h;
    const length = scratchLength;
    lengths[slot] = length;
    // The whole scratch row, past the key's end too (`lengths` says where it ends): one
    // native copy, where a loop over the characters cost ~37 instructions each (callgrind).
    if (length === LONG) longKeys[slot] = key;
    else chars.set(scratch, slot * KEY_CHARS);
    place(slot, h);
  }

  function allocate(): number {
    if (free !== NONE) {
      const slot = free;
      free = next[slot]!;
      return slot;
    }
    if (used === capacity) grow();
    return used++;
  }

  function appendSlot(list: Slots, slot: number): void {
    prev[slot] = list.tail;
    next[slot] = NONE;
    if (list.tail !== NONE) next[list.tail] = slot;
    else list.head = slot;
    list.tail = slot;
  }

  function unlinkSlot(list: Slots, slot: number): void {
    const p = prev[slot]!;
    const n = next[slot]!;
    if (p !== NONE) next[p] = n;
    else list.head = n;
    if (n !== NONE) prev[n] = p;
    else list.tail = p;
  }

  function drop(slot: number): void {
    if (slot === lastSlot) lastSlot = NONE;
    displace(slot);
    unlinkSlot(leaseNo[slot]! === 0 ? completed : leases, slot);
    if (lengths[slot] === LONG) longKeys[slot] = undefined;
    leaseNo[slot] = 0;
    next[slot] = free;
    free = slot;
    count--;
  }

  // Lists are in claim / completion order, which is expiry order when every call uses the
  // same leaseMs / ttlMs (as the receiver does): their expired heads go first, each entry
  // once, so this stays O(1) amortized.
  function dropExpiredHeads(t: number): void {
    while (completed.head !== NONE && expiresAt[completed.head]! <= t) drop(completed.head);
    while (leases.head !== NONE && expiresAt[leases.head]! <= t) drop(leases.head);
  }

  function sweepLeases(t: number): boolean {
    let dropped = false;
    let earliest = Infinity;
    for (let slot = leases.head; slot !== NONE; ) {
      const after = next[slot]!;
      const expiry = expiresAt[slot]!;
      if (expiry <= t) {
        drop(slot);
        dropped = true;
      } else if (expiry < earliest) {
        earliest = expiry;
      }
      slot = after;
    }
    nextLeaseExpiry = earliest;
    return dropped;
  }

  function makeRoom(t: number): void {
    if (count < maxEntries) return;
    if (completed.head !== NONE) return drop(completed.head);
    // Only leases are left, and the oldest is live. One with a shorter leaseMs may have
    // expired further down: sweep, but only once one can have.
    if (t >= nextLeaseExpiry && sweepLeases(t)) return;
    throw new WebhookError(
      "store_unavailable",
      `hookguard: memoryStore is full: all ${maxEntries} entries are live leases of events being handled now, and none may be evicted without risking a second run. Answer 503 so the sender retries; raise maxEntries, or lower leaseMs so crashed claims free their slot sooner.`,
      { status: 503 },
    );
  }

  /** The number of a string token this store handed out; 0 for any other value. */
  function leaseNumber(held: unknown): number {
    if (typeof held !== "string" || !held.startsWith(tokenStart)) return 0;
    const n = Number(held.slice(tokenStart.length));
    // The counter's own spelling only: no leading zero, sign, space, fraction or exponent.
    return n > 0 && tokenStart + n === held ? n : 0;
  }

  /** The slot of the key's lease numbered `lease` (> 0), or NONE. */
  function leaseOf(key: string, lease: number): number {
    if (typeof key !== "string" || lease <= 0) return NONE;
    const slot = find(key, hash(key));
    return slot !== NONE && leaseNo[slot]! === lease ? slot : NONE;
  }

  /**
   * The lease's number (> 0) when claimed, else {@link CLAIM_COMPLETED} or
   * {@link CLAIM_IN_PROGRESS}. `keyPrefix` and `keyId`, when given, are the key's two parts
   * (`key === keyPrefix + keyId`).
   */
  function claimNow(key: string, leaseMsOption: unknown, keyPrefix?: string, keyId?: string, dateNow?: number): number {
    const leaseMs = durationMs(leaseMsOption, "leaseMs", "memoryStore().claim(key, { leaseMs })");
    if (typeof key !== "string") throw new TypeError(`hookguard: memoryStore().claim(key) needs a string key; got ${typeof key}`);
    // A reading of Date.now the caller just made serves when this store's clock is Date.now.
    const t = dateNow !== undefined && dateClock ? dateNow : now();
    dropExpiredHeads(t);
    const h = keyPrefix === undefined ? hash(key) : hashParts(keyPrefix, keyId!, key);
    const existing = find(key, h);
    if (existing !== NONE) {
      if (expiresAt[existing]! > t) return leaseNo[existing]! === 0 ? CLAIM_COMPLETED : CLAIM_IN_PROGRESS;
      drop(existing);
    }
    makeRoom(t);
    const slot = allocate();
    const lease = ++lastLease;
    keep(slot, key, h);
    lastSlot = slot;
    lastKey = key;
    leaseNo[slot] = lease;
    expiresAt[slot] = t + leaseMs;
    count++;
    appendSlot(leases, slot);
    if (t + leaseMs < nextLeaseExpiry) nextLeaseExpiry = t + leaseMs;
    return lease;
  }

  /**
   * `complete` of the lease numbered `lease` on the slot found (NONE when there is none).
   * Numbers are unique per claim, so a slot that holds `lease` holds that claim's key.
   * `dateNow`: the claim's own reading of Date.now, from a caller that ran nothing else since
   * (see `SyncStoreOps.complete`); taken for the time when the clock is Date.now.
   */
  function completeSlot(slot: number, ttlMsOption: unknown, dateNow?: number): boolean {
    const ttlMs = durationMs(ttlMsOption, "ttlMs", "memoryStore().complete(key, token, { ttlMs })");
    const t = dateNow !== undefined && dateClock ? dateNow : now();
    if (slot === NONE) return false;
    if (expiresAt[slot]! <= t) {
      // The lease ran out before the work finished: the key is free again, not ours.
      drop(slot);
      return false;
    }
    unlinkSlot(leases, slot);
    leaseNo[slot] = 0;
    expiresAt[slot] = t + ttlMs;
    appendSlot(completed, slot);
    return true;
  }

  const store: MemoryStore = {
    get size() {
      return count;
    },

    async claim(key, claimOptions) {
      const lease = claimNow(key, claimOptions?.leaseMs);
      return lease > 0 ? { status: "claimed", token: tokenStart + lease } : lease === CLAIM_COMPLETED ? COMPLETED : IN_PROGRESS;
    },

    async complete(key, token, completeOptions) {
      return completeSlot(leaseOf(key, leaseNumber(token)), completeOptions?.ttlMs);
    },

    async release(key, held) {
      const t = now();
      const slot = leaseOf(key, leaseNumber(held));
      if (slot === NONE) return false;
      const live = expiresAt[slot]! > t;
      drop(slot);
      // An expired lease was already free: dropping it is only cleanup, not a release.
      return live;
    },

    async advanceWatermark(key, value, options) {
      const ttlMs = durationMs(options?.ttlMs, "ttlMs", "memoryStore().advanceWatermark(key, value, { ttlMs })");
      if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError("hookguard: memoryStore().advanceWatermark(key, value) needs a finite number");
      const t = now();
      let w = watermarks.get(key);
      if (w && w.expiresAt > t && w.value > value) return { stale: true, latest: w.value };
      if (w) unlink(watermarkOrder, w);
      else {
        // Bounded like the claims: the watermark advanced longest ago goes first. Forgetting
        // one only weakens the guard for that resource (an older event is no longer stale).
        if (watermarks.size >= maxEntries && watermarkOrder.head) {
          watermarks.delete(watermarkOrder.head.key);
          unlink(watermarkOrder, watermarkOrder.head);
        }
        w = { key, value, expiresAt: 0, prev: undefined, next: undefined };
        watermarks.set(key, w);
      }
      w.value = value;
      w.expiresAt = t + ttlMs;
      append(watermarkOrder, w);
      return { stale: false, latest: value };
    },
  };
  // The receiver calls these directly: no promise per claim and per completion.
  registerSyncOps(store, {
    claim: (keyPrefix, keyId, key, leaseMs, dateNow) => claimNow(key, leaseMs, keyPrefix, keyId, dateNow),
    // The lease just claimed is the usual one: found by its slot, without hashing the key.
    complete: (key, lease, ttlMs, dateNow) => completeSlot(lastSlot !== NONE && lease > 0 && key === lastKey && leaseNo[lastSlot]! === lease ? lastSlot : leaseOf(key, lease), ttlMs, dateNow),
    token: (lease) => tokenStart + lease,
  });
  return store;
}
