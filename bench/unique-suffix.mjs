// A different short string for each n below 64^5 (1,073,741,824), for the benches' keys:
// the pool of signed events repeats, so the hookguard subjects key each claim by
// `${event.id}/${uniqueSuffix(n)}` to make every request a new claim.
//
// Not `${n}`: turning a number into a string goes through V8's number-string cache, which
// lives in the old generation, so every key's digits were kept past the next scavenge —
// 24 bytes promoted per event, the scavenges 2-3x longer and extra mark-compacts, a cost
// of the bench's key, not of hookguard (users key by the event's id). Session 9 found it
// with `node --trace-gc-nvp`: ~24,000 bytes promoted per scavenge with `${n}`, ~400 with this.
const SYMBOLS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";

/** @param {number} n a whole number, 0 <= n < 64 ** 5 */
export function uniqueSuffix(n) {
  return SYMBOLS[n & 63] + SYMBOLS[(n >>> 6) & 63] + SYMBOLS[(n >>> 12) & 63] + SYMBOLS[(n >>> 18) & 63] + SYMBOLS[(n >>> 24) & 63];
}
