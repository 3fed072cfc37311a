/**
 * The plain response every adapter writes out as it is.
 *
 * @module
 */
import type { WebhookErrorCode } from "./errors";
import { failureMessage } from "./internal/messages";
import type { VerifyFailure } from "./types";
import { verificationErrorStatus } from "./errors";

/** A framework-neutral HTTP response: status, headers and a text body. */
export interface WebhookResponse {
  /** The HTTP status, e.g. 200, 401, 409, 503. */
  readonly status: number;
  /** Response headers by lower-case name, e.g. `content-type` and, on 409 / 503, `retry-after`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, usually JSON: `{"status":"processed"}`, `{"error":"signature_mismatch","message":…}`. */
  readonly body: string;
}

// No `charset`: JSON is UTF-8 and application/json defines no such parameter (RFC 8259 §11:
// adding one "really has no effect on compliant recipients"). The shorter value is also
// what Node validates and writes on every answer.
const JSON_HEADERS = Object.freeze({ "content-type": "application/json" });

/** A JSON response `{ ...fields }` with the given status. */
export function jsonResponse(status: number, fields: Readonly<Record<string, unknown>>, headers?: Readonly<Record<string, string>>): WebhookResponse {
  return { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS, body: JSON.stringify(fields) };
}

/** The response for an error code: `{ "error": code, "message": … }`. */
export function errorResponse(code: WebhookErrorCode, status: number, message: string, headers?: Readonly<Record<string, string>>): WebhookResponse {
  return jsonResponse(status, { error: code, message }, headers);
}

/** The response for a verification failure, built without an `Error` (the hot reject path). */
export function failureResponse(failure: VerifyFailure, scheme: string): WebhookResponse {
  return errorResponse(failure.code, verificationErrorStatus[failure.code], failureMessage(failure, scheme));
}
