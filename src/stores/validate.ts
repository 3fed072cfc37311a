// Checks shared by the stores (not exported from any entry point). Per-call options come
// from the receiver, which validates its own; a custom caller that passes 0 or NaN would
// otherwise get a lease that never expires or a Redis error that hides the real mistake.

export function durationMs(value: unknown, name: "leaseMs" | "ttlMs", where: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`hookguard: ${where} needs \`${name}\` as a positive, finite number of milliseconds; got ${String(value)}`);
  }
  // Redis PX and the clocks below count whole milliseconds; rounding up never shortens a lease.
  return Math.ceil(value);
}

/** An unguessable, unique fencing token (122 random bits). */
export function newToken(): string {
  return globalThis.crypto.randomUUID();
}
