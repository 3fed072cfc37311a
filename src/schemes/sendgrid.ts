/**
 * SendGrid Signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature: <base64 DER ECDSA
 * P-256/SHA-256 signature of timestamp + rawBody>`, `X-Twilio-Email-Event-Webhook-Timestamp`.
 *
 * @module
 */
import { derToP1363, firstValidKey, p1363ToDer, p256PrivateKey, p256PublicKey, p256SpkiOrUndefined, pemOrBase64, type PrivateKeySigner } from "../internal/asymmetric";
import { resolveCrypto, type CryptoPreference } from "../internal/crypto";
import { base64ToBytes, bytesToBase64 } from "../internal/encoding";
import { parsePayload } from "../internal/payload";
import { secretList } from "../internal/secrets";
import { assertTolerance, checkWindow, formatTimestamp, parseTimestamp } from "../internal/timestamp";
import type { SchemeContext, SchemeRequest, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link sendgrid}. */
export interface SendGridOptions {
  /**
   * The "Verification Key" from Mail Settings → Event Webhook: base64 of a DER
   * SubjectPublicKeyInfo (`MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…`), with or without PEM
   * armour. Several while you rotate.
   */
  readonly publicKey: string | readonly string[];
  /** A P-256 private key (PKCS#8, base64 DER or PEM), for `signWebhook` only (tests, local tools). */
  readonly privateKey?: string;
  /** Accepted clock difference, both ways, in seconds. @default 300 */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const SIGNATURE = "x-twilio-email-event-webhook-signature";
const TIMESTAMP = "x-twilio-email-event-webhook-timestamp";

/**
 * Verifies SendGrid's Signed Event Webhook (ECDSA P-256 with SHA-256), on node:crypto and
 * on Web Crypto with the same answers: the DER signature is decoded strictly once and both
 * paths verify the same IEEE P1363 bytes.
 *
 * - The payload is a JSON **array** of events (a batch): `id` and `type` are `undefined`;
 *   iterate `payload` and deduplicate each event on its `sg_event_id`.
 * - The timestamp window is ±300 s by default; SendGrid's SDK checks none.
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { sendgrid, verifyWebhook } from "hookguard";
 * const scheme = sendgrid({ publicKey: process.env.SENDGRID_VERIFICATION_KEY! });
 * const { payload } = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function sendgrid<TPayload = Record<string, unknown>[]>(options: SendGridOptions): WebhookScheme<TPayload> {
  const where = "sendgrid()";
  const impl = resolveCrypto(options?.crypto);
  const keys = secretList(options?.publicKey, where, "publicKey").map((text, i) => {
    const der = pemOrBase64(text);
    const spki = der && p256SpkiOrUndefined(der);
    if (!spki) {
      const at = typeof options.publicKey === "string" ? "publicKey" : `publicKey[${i}]`;
      throw new TypeError(`hookguard: ${where}: \`${at}\` must be SendGrid's verification key: base64 of a P-256 public key (it starts with "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")`);
    }
    return p256PublicKey(spki, impl);
  });
  let signer: PrivateKeySigner | undefined;
  if (options.privateKey !== undefined) {
    const der = typeof options.privateKey === "string" ? pemOrBase64(options.privateKey) : undefined;
    if (!der) throw new TypeError(`hookguard: ${where}: \`privateKey\` must be a P-256 private key in PKCS#8, as base64 DER or PEM`);
    try {
      signer = p256PrivateKey(der, impl);
    } catch {
      throw new TypeError(`hookguard: ${where}: \`privateKey\` is not a P-256 private key in PKCS#8`);
    }
  }
  const toleranceSeconds = assertTolerance(options.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);

  function finish(req: SchemeRequest, index: number, timestampMs: number): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", header: SIGNATURE };
    const parsed = parsePayload(req.body, req.header("content-type"));
    if (parsed === undefined) return { ok: false, code: "invalid_json" };
    return {
      ok: true,
      webhook: { id: undefined, type: undefined, timestamp: new Date(timestampMs), payload: parsed.value as TPayload, rawBody: req.body, scheme: "sendgrid", secretIndex: index },
    };
  }

  return {
    name: "sendgrid",
    toleranceSeconds,
    verify(req: SchemeRequest, ctx: SchemeContext) {
      const b64 = req.header(SIGNATURE);
      if (b64 === undefined) return { ok: false, code: "missing_header", header: SIGNATURE };
      const der = base64ToBytes(b64.trim());
      const signature = der && derToP1363(der, 32);
      if (!signature) return { ok: false, code: "malformed_header", header: SIGNATURE, detail: "expected base64 of a DER ECDSA signature" };
      const timestamp = req.header(TIMESTAMP);
      if (timestamp === undefined) return { ok: false, code: "timestamp_missing", header: TIMESTAMP };
      const timestampMs = parseTimestamp(timestamp, "s");
      if (timestampMs === undefined) return { ok: false, code: "malformed_header", header: TIMESTAMP, detail: "the timestamp is not a whole number of seconds" };
      const tooFar = checkWindow(timestampMs, ctx.nowMs, ctx.toleranceSeconds ?? toleranceSeconds, TIMESTAMP);
      if (tooFar) return tooFar;
      const index = firstValidKey(keys, [timestamp, req.body], [signature]);
      return typeof index === "number" ? finish(req, index, timestampMs) : index.then((i) => finish(req, i, timestampMs));
    },
    async sign(body, o) {
      if (!signer) throw new TypeError(`hookguard: ${where}: signing needs \`privateKey\` (P-256, PKCS#8); only tests and local tools sign SendGrid events`);
      const timestamp = formatTimestamp(o.timestampMs, "s");
      const signature = p1363ToDer(await signer.sign([timestamp, body]));
      return { "content-type": o.contentType, [SIGNATURE]: bytesToBase64(signature), [TIMESTAMP]: timestamp };
    },
  };
}
