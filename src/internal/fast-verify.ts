// The built-in HMAC schemes' direct entry: `verifyRequest` hands them the request's own
// headers instead of building a `SchemeRequest` (an object and a header-reading closure per
// request), and the clock only when a scheme needs it. It hangs on the scheme's `verify`
// function itself, so a scheme whose `verify` was replaced (`{ ...stripe(), verify: mine }`,
// or a preset wrapping another) never takes it: its own `verify` runs.
import type { VerifyOutcome, WebhookHeaders, WebhookScheme } from "../types";
import { tag, tagOf } from "./tagged";

const FAST_VERIFY: unique symbol = Symbol("hookguard.fastVerify");

/** Verifies from the request's parts; `nowMs` is `undefined` for "now" (read only when needed). */
export type FastVerify<TPayload> = (
  body: string | Uint8Array,
  headers: WebhookHeaders,
  url: string | undefined,
  method: string,
  nowMs: number | undefined,
  toleranceSeconds: number | undefined,
) => VerifyOutcome<TPayload> | Promise<VerifyOutcome<TPayload>>;

/** Attaches `fast` to `verify`; returns `verify`. */
export function withFastVerify<TPayload>(verify: WebhookScheme<TPayload>["verify"], fast: FastVerify<TPayload>): WebhookScheme<TPayload>["verify"] {
  return tag(verify, FAST_VERIFY, fast);
}

/** The direct entry of the scheme's current `verify`, if it has one. */
export function fastVerifyOf<TPayload>(scheme: WebhookScheme<TPayload>): FastVerify<TPayload> | undefined {
  return tagOf<FastVerify<TPayload>>(scheme.verify, FAST_VERIFY);
}
