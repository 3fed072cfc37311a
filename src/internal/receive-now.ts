// The receiver's answer as a value when it is ready at once (node:crypto, memoryStore, a
// synchronous handler): the adapters' pipeline takes it without the promise `receive`
// wraps it in, saving microtask turns per request. It hangs on the receiver's `receive`
// function, so a receiver whose `receive` was replaced (`{ ...receiver, receive: mine }`)
// is always called through its own `receive`.
import type { WebhookResponse } from "../response";
import type { WebhookRequest } from "../types";
import { tag, tagOf } from "./tagged";

const RECEIVE_NOW: unique symbol = Symbol("hookguard.receiveNow");

/** Answers a request; may throw where `receive` would reject. */
export type ReceiveNow = (request: WebhookRequest) => WebhookResponse | Promise<WebhookResponse>;

/** Attaches `now` to `receive`; returns `receive`. */
export function withReceiveNow<F extends (request: WebhookRequest) => Promise<WebhookResponse>>(receive: F, now: ReceiveNow): F {
  return tag(receive, RECEIVE_NOW, now);
}

/** The value-or-promise entry of this `receive`, if it has one. */
export function receiveNowOf(receive: unknown): ReceiveNow | undefined {
  return tagOf<ReceiveNow>(receive, RECEIVE_NOW);
}
