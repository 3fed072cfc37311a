// One message per failure code: what went wrong and what to check. Never a secret, a
// signature or the payload: only header names, the scheme's name and safe details.
import type { VerifyFailure } from "../types";

export function failureMessage(failure: VerifyFailure, scheme: string): string {
  const h = failure.header ? `the ${failure.header} header` : "a header";
  const detail = failure.detail ? ` (${failure.detail})` : "";
  switch (failure.code) {
    case "missing_header":
      return `${scheme}: ${h} is missing${detail}. Was the request sent by ${scheme}, and does every proxy in front of this server pass the header through?`;
    case "malformed_header":
      return `${scheme}: ${h} is not in the format ${scheme} sends${detail}.`;
    case "timestamp_missing":
      return `${scheme}: the request carries no signed timestamp${failure.header ? ` in ${h}` : ""}${detail}.`;
    case "timestamp_too_old":
      return `${scheme}: the signed timestamp is too old${detail}: a replayed request, or this server's clock is ahead of the sender's.`;
    case "timestamp_too_new":
      return `${scheme}: the signed timestamp is in the future${detail}: this server's clock is behind, or the sender's is ahead.`;
    case "signature_mismatch":
      return `${scheme}: no signature in ${h} matches the body${detail}. Check that the secret is this endpoint's signing secret and that the body is the raw bytes as received, not parsed and re-serialised.`;
    case "invalid_json":
      return `${scheme}: the signature matched but the body is not valid JSON${detail}.`;
    case "body_not_raw":
      return `${scheme}: the request body is not the raw bytes${detail}. Pass the body as a string, Buffer, Uint8Array or ArrayBuffer exactly as received: mount express.raw({ type: "*/*" }) (or your framework's raw-body option) on the webhook route, before any JSON body parser.`;
    case "url_unknown":
      return `${scheme}: the public URL of this endpoint is unknown${detail}. Behind a proxy or load balancer the server sees its own host, not the one ${scheme} signed.`;
    case "payload_too_large":
      return `${scheme}: the body is larger than allowed${detail}; raise maxBodyBytes if this provider sends larger events.`;
  }
}
