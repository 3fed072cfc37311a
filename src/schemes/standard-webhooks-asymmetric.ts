/**
 * Standard Webhooks, asymmetric `v1a`: `webhook-signature: v1a,<base64 Ed25519 signature of
 * "${webhook-id}.${webhook-timestamp}.${rawBody}">`, public keys `whpk_<base64>`.
 *
 * @module
 */
import { ed25519PrivateKey, ed25519PublicKey, firstValidKey, type PrivateKeySigner } from "../internal/asymmetric";
import { randomId, resolveCrypto, type CryptoPreference } from "../internal/crypto";
import { base64ToBytes, bytesToBase64 } from "../internal/encoding";
import { parsePayload, readPath } from "../internal/payload";
import { secretList } from "../internal/secrets";
import { assertTolerance, checkWindow, formatTimestamp, parseTimestamp } from "../internal/timestamp";
import type { SchemeContext, SchemeRequest, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link standardWebhooksAsymmetric}. */
export interface StandardWebhooksAsymmetricOptions {
  /** The sender's Ed25519 public key, `whpk_` + base64 of its 32 bytes; several while the sender rotates. */
  readonly publicKey: string | readonly string[];
  /** The Ed25519 secret key, `whsk_` + base64 (32-byte seed, or 64 bytes seed + public key), for `signWebhook`. */
  readonly privateKey?: string;
  /** Accepted clock difference, both ways, in seconds. @default 300 */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const VERSION = "v1a,";

function keyBytes(text: string, prefix: string): Uint8Array | undefined {
  const b64 = text.startsWith(prefix) ? text.slice(prefix.length) : text;
  return b64.length > 0 ? base64ToBytes(b64, false) : undefined;
}

// Svix-branded senders write svix-*; read those first, header by header, as the svix library does.
function header(req: SchemeRequest, name: string): string | undefined {
  return req.header(`svix-${name}`) ?? req.header(`webhook-${name}`);
}

/**
 * Verifies Standard Webhooks signed with Ed25519 (`v1a`), on node:crypto and on Web Crypto
 * with the same answers. `v1` (HMAC) entries in the header are skipped: use
 * `standardWebhooks({ secret })` for those. The official JS and Python libraries do not
 * implement `v1a`; this follows the specification.
 *
 * - Reads `webhook-*` headers, or `svix-*` (header by header, `svix-*` first); signs `webhook-*`.
 * - Any `v1a` signature that verifies under any configured public key passes.
 * - `id` is `webhook-id`, `type` the body's `type`; the window is ±300 s, two-sided.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { standardWebhooksAsymmetric, verifyWebhook } from "hookguard";
 * const scheme = standardWebhooksAsymmetric({ publicKey: process.env.WEBHOOK_PUBLIC_KEY! }); // "whpk_…"
 * const event = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function standardWebhooksAsymmetric<TPayload = Record<string, unknown>>(options: StandardWebhooksAsymmetricOptions): WebhookScheme<TPayload> {
  const where = "standardWebhooksAsymmetric()";
  const impl = resolveCrypto(options?.crypto);
  const keys = secretList(options?.publicKey, where, "publicKey").map((text, i) => {
    const raw = keyBytes(text, "whpk_");
    if (!raw || raw.byteLength !== 32) {
      throw new TypeError(`hookguard: ${where}: \`${typeof options.publicKey === "string" ? "publicKey" : `publicKey[${i}]`}\` must be an Ed25519 public key: "whpk_" followed by base64 of 32 bytes`);
    }
    return ed25519PublicKey(raw, impl);
  });
  let signer: PrivateKeySigner | undefined;
  if (options.privateKey !== undefined) {
    const raw = typeof options.privateKey === "string" ? keyBytes(options.privateKey, "whsk_") : undefined;
    if (!raw || (raw.byteLength !== 32 && raw.byteLength !== 64)) {
      throw new TypeError(`hookguard: ${where}: \`privateKey\` must be an Ed25519 secret key: "whsk_" followed by base64 of 32 (or 64) bytes`);
    }
    signer = ed25519PrivateKey(raw.subarray(0, 32), impl);
  }
  const toleranceSeconds = assertTolerance(options.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);

  function finish(req: SchemeRequest, index: number, id: string, timestampMs: number): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", header: "webhook-signature" };
    const parsed = parsePayload(req.body, req.header("content-type"));
    if (parsed === undefined) return { ok: false, code: "invalid_json" };
    return {
      ok: true,
      webhook: {
        id,
        type: readPath(parsed.value, ["type"]),
        timestamp: new Date(timestampMs),
        payload: parsed.value as TPayload,
        rawBody: req.body,
        scheme: "standard-webhooks",
        secretIndex: index,
      },
    };
  }

  return {
    name: "standard-webhooks",
    toleranceSeconds,
    verify(req: SchemeRequest, ctx: SchemeContext) {
      const raw = header(req, "signature");
      if (raw === undefined) return { ok: false, code: "missing_header", header: "webhook-signature" };
      const signatures: Uint8Array[] = [];
      for (const item of raw.split(" ")) {
        if (!item.startsWith(VERSION)) continue;
        const sig = base64ToBytes(item.slice(VERSION.length));
        if (sig !== undefined && sig.byteLength === 64) signatures.push(sig);
      }
      if (signatures.length === 0) return { ok: false, code: "malformed_header", header: "webhook-signature", detail: "expected v1a,<base64 Ed25519 signature>" };
      const timestamp = header(req, "timestamp");
      if (timestamp === undefined) return { ok: false, code: "timestamp_missing", header: "webhook-timestamp" };
      const timestampMs = parseTimestamp(timestamp, "s");
      if (timestampMs === undefined) return { ok: false, code: "malformed_header", header: "webhook-timestamp", detail: "the timestamp is not a whole number of seconds" };
      const tooFar = checkWindow(timestampMs, ctx.nowMs, ctx.toleranceSeconds ?? toleranceSeconds, "webhook-timestamp");
      if (tooFar) return tooFar;
      const id = header(req, "id");
      if (id === undefined) return { ok: false, code: "missing_header", header: "webhook-id" };
      const index = firstValidKey(keys, [`${id}.${timestamp}.`, req.body], signatures);
      return typeof index === "number" ? finish(req, index, id, timestampMs) : index.then((i) => finish(req, i, id, timestampMs));
    },
    async sign(body, o) {
      if (!signer) throw new TypeError(`hookguard: ${where}: signing needs \`privateKey\` (an Ed25519 secret key, "whsk_…")`);
      const id = o.id ?? randomId();
      const timestamp = formatTimestamp(o.timestampMs, "s");
      const signature = await signer.sign([`${id}.${timestamp}.`, body]);
      return { "content-type": o.contentType, "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `${VERSION}${bytesToBase64(signature)}` };
    },
  };
}
