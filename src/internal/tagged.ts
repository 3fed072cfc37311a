// A function's companion under a private symbol: how hookguard's own schemes and receiver
// offer a faster internal entry next to their public method. It hangs on the function
// itself, so an object whose method was replaced (`{ ...scheme, verify: mine }`) has no
// companion and is always called through its own method.

/** Attaches `companion` to `fn` under `key` (not enumerable); returns `fn`. */
export function tag<F extends object>(fn: F, key: symbol, companion: unknown): F {
  Object.defineProperty(fn, key, { value: companion });
  return fn;
}

/** The companion of `fn` under `key`, if `fn` is a function that has one. */
export function tagOf<C>(fn: unknown, key: symbol): C | undefined {
  return typeof fn === "function" ? ((fn as unknown as Record<symbol, C | undefined>)[key]) : undefined;
}
