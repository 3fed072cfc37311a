// One test for "is this a promise (or any thenable) to wait for?", shared by verifyWebhook
// and the receiver: both settle a synchronous outcome without awaiting it.

/** True for a promise or any object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}
