// "The raw limit": the fastest honest hand-written node:crypto code doing each scheme's
// work — read the header, check the timestamp window, one HMAC with a key prepared once,
// a constant-time compare, JSON.parse — with none of a library's generality. hookguard is
// measured against this, so every line here is kept to what the scheme strictly needs.
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
// The one-shot HMAC (session 14), shared with the plain-JavaScript benches.
import { hmacSha256 } from "./hmac-sha256.mjs";

export type RawHeaders = Readonly<Record<string, string | undefined>>;
/** Returns the parsed event, or undefined for a request that does not verify. */
export type RawVerifier = (body: Buffer, headers: RawHeaders) => unknown;

const TOLERANCE_S = 300;

function hmacMatches(mac: Buffer, candidate: Buffer): boolean {
  return candidate.length === mac.length && timingSafeEqual(candidate, mac);
}

/** Stripe: `t=<s>,v1=<hex>[,v1=…]`, HMAC-SHA256 of `${t}.${body}` keyed with the whole secret. */
export function rawStripe(secret: string): RawVerifier {
  const hmac = hmacSha256(Buffer.from(secret, "utf8"));
  return (body, headers) => {
    const header = headers["stripe-signature"];
    if (header === undefined) return undefined;
    let t: string | undefined;
    const signatures: string[] = [];
    for (const part of header.split(",")) {
      const eq = part.indexOf("=");
      const k = part.slice(0, eq);
      if (k === "t") t = part.slice(eq + 1);
      else if (k === "v1") signatures.push(part.slice(eq + 1));
    }
    if (t === undefined || signatures.length === 0) return undefined;
    if (Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_S) return undefined;
    const mac = hmac(`${t}.`, body);
    let ok = false;
    for (const s of signatures) if (hmacMatches(mac, Buffer.from(s, "hex"))) ok = true;
    return ok ? JSON.parse(body.toString("utf8")) : undefined;
  };
}

/** GitHub: `sha256=<hex>` of the raw body. */
export function rawGitHub(secret: string): RawVerifier {
  const hmac = hmacSha256(Buffer.from(secret, "utf8"));
  return (body, headers) => {
    const header = headers["x-hub-signature-256"];
    if (header === undefined || !header.startsWith("sha256=")) return undefined;
    const mac = hmac("", body);
    return hmacMatches(mac, Buffer.from(header.slice(7), "hex")) ? JSON.parse(body.toString("utf8")) : undefined;
  };
}

/** Standard Webhooks: `v1,<base64>` list over `${id}.${ts}.${body}`, key = base64 after `whsec_`. */
export function rawStandardWebhooks(secret: string): RawVerifier {
  const hmac = hmacSha256(Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64"));
  return (body, headers) => {
    const id = headers["webhook-id"];
    const ts = headers["webhook-timestamp"];
    const header = headers["webhook-signature"];
    if (id === undefined || ts === undefined || header === undefined) return undefined;
    if (Math.abs(Date.now() / 1000 - Number(ts)) > TOLERANCE_S) return undefined;
    const mac = hmac(`${id}.${ts}.`, body);
    let ok = false;
    for (const item of header.split(" ")) if (item.startsWith("v1,") && hmacMatches(mac, Buffer.from(item.slice(3), "base64"))) ok = true;
    return ok ? JSON.parse(body.toString("utf8")) : undefined;
  };
}
