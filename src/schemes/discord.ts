/**
 * Discord (interactions and application webhook events): `X-Signature-Ed25519: <hex
 * Ed25519 signature of timestamp + rawBody>`, `X-Signature-Timestamp`.
 *
 * @module
 */
import { ed25519PrivateKey, ed25519PublicKey, firstValidKey, type PrivateKeySigner, type PublicKeyVerifier } from "../internal/asymmetric";
import { resolveCrypto, type CryptoPreference } from "../internal/crypto";
import { bytesToHex, hexToBytes } from "../internal/encoding";
import { parsePayload } from "../internal/payload";
import { secretList } from "../internal/secrets";
import { assertTolerance, checkWindow, parseTimestamp } from "../internal/timestamp";
import { jsonResponse, type WebhookResponse } from "../response";
import type { SchemeContext, SchemeRequest, VerifiedWebhook, VerifyFailure, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link discord}. */
export interface DiscordOptions {
  /** The application's Public Key from the Developer Portal (64 hex digits); several while you move apps. */
  readonly publicKey: string | readonly string[];
  /**
   * An Ed25519 private key as its 32-byte seed in hex, for `signWebhook` only (tests, local
   * tools). Discord never gives you one; receivers leave it out.
   */
  readonly privateKey?: string;
  /**
   * Accepted clock difference, both ways, in seconds, on `X-Signature-Timestamp`; `Infinity`
   * treats the timestamp as an opaque string, as Discord's SDK does. @default 300
   */
  readonly toleranceSeconds?: number;
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const SIGNATURE = "x-signature-ed25519";
const TIMESTAMP = "x-signature-timestamp";
const HEX64_RE = /^[0-9a-fA-F]{64}$/;
const INTERACTION_TYPES: Readonly<Record<number, string>> = {
  1: "PING",
  2: "APPLICATION_COMMAND",
  3: "MESSAGE_COMPONENT",
  4: "APPLICATION_COMMAND_AUTOCOMPLETE",
  5: "MODAL_SUBMIT",
};

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

// Interactions carry a `token`; application webhook events never do, and their PING is
// type 0 (type 1 is an EVENT there). That is how one endpoint can tell them apart.
function isInteraction(payload: unknown): boolean {
  return typeof field(payload, "token") === "string";
}

function discordType(payload: unknown): string | undefined {
  const type = field(payload, "type");
  if (typeof type !== "number") return undefined;
  if (isInteraction(payload)) return INTERACTION_TYPES[type] ?? String(type);
  if (type === 0) return "PING";
  const eventType = field(field(payload, "event"), "type");
  return typeof eventType === "string" ? eventType : String(type);
}

// Discord must see 401 for every request that does not authenticate (it probes endpoints
// with bad signatures and removes those that accept them), so every header problem is a
// signature_mismatch here, with a detail saying which.
function reject(header: string, detail: string): VerifyFailure {
  return { ok: false, code: "signature_mismatch", header, detail };
}

const PONG: WebhookResponse = jsonResponse(200, { type: 1 });
const NO_CONTENT: WebhookResponse = { status: 204, headers: {}, body: "" };

/**
 * Verifies Discord interactions and application webhook events (Ed25519), and answers
 * Discord's verified PINGs when used with a receiver or an adapter: an interaction PING
 * (type 1) with `{ "type": 1 }`, a webhook-event PING (type 0) with 204.
 *
 * - `publicKey` is the application's Public Key (hex). Verification works on node:crypto
 *   and on Web Crypto (Workers, Deno, Bun) with the same answers.
 * - Every failure answers **401** (code `signature_mismatch`, even for a missing or
 *   malformed header), as Discord requires.
 * - The timestamp window is ±300 s by default; Discord's SDK checks none
 *   (`toleranceSeconds: Infinity` does the same).
 * - `id` is the interaction's `id` (webhook events carry none); `type` is the interaction
 *   type's name (`APPLICATION_COMMAND`, `MESSAGE_COMPONENT`, …, `PING`) or the webhook
 *   event's `event.type` (`APPLICATION_AUTHORIZED`).
 *
 * From `hookguard`.
 *
 * @default toleranceSeconds 300
 * @example
 * ```ts
 * import { discord, verifyWebhook } from "hookguard";
 * const scheme = discord({ publicKey: process.env.DISCORD_PUBLIC_KEY! });
 * const interaction = await verifyWebhook({ body: rawBody, headers }, scheme);
 * ```
 */
export function discord<TPayload = Record<string, unknown>>(options: DiscordOptions): WebhookScheme<TPayload> {
  const where = "discord()";
  const impl = resolveCrypto(options?.crypto);
  const keys: PublicKeyVerifier[] = secretList(options?.publicKey, where, "publicKey").map((hex, i) => {
    if (!HEX64_RE.test(hex)) {
      throw new TypeError(`hookguard: ${where}: \`${typeof options.publicKey === "string" ? "publicKey" : `publicKey[${i}]`}\` must be the application's Public Key: 64 hex digits`);
    }
    return ed25519PublicKey(hexToBytes(hex)!, impl);
  });
  let signer: PrivateKeySigner | undefined;
  if (options.privateKey !== undefined) {
    if (typeof options.privateKey !== "string" || !HEX64_RE.test(options.privateKey)) {
      throw new TypeError(`hookguard: ${where}: \`privateKey\` must be an Ed25519 seed: 64 hex digits`);
    }
    signer = ed25519PrivateKey(hexToBytes(options.privateKey)!, impl);
  }
  const toleranceSeconds = assertTolerance(options.toleranceSeconds ?? 300, `${where}: \`toleranceSeconds\``);

  function finish(req: SchemeRequest, index: number, timestampMs: number | undefined): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", header: SIGNATURE };
    const parsed = parsePayload(req.body, req.header("content-type"));
    if (parsed === undefined) return { ok: false, code: "invalid_json" };
    const id = field(parsed.value, "id");
    return {
      ok: true,
      webhook: {
        id: isInteraction(parsed.value) && typeof id === "string" ? id : undefined,
        type: discordType(parsed.value),
        timestamp: timestampMs === undefined ? undefined : new Date(timestampMs),
        payload: parsed.value as TPayload,
        rawBody: req.body,
        scheme: "discord",
        secretIndex: index,
      },
    };
  }

  return {
    name: "discord",
    toleranceSeconds,
    handshake(event: VerifiedWebhook<TPayload>) {
      const type = field(event.payload, "type");
      if (type === 1 && isInteraction(event.payload)) return PONG;
      if (type === 0 && !isInteraction(event.payload)) return NO_CONTENT;
      return undefined;
    },
    verify(req: SchemeRequest, ctx: SchemeContext) {
      const sigHex = req.header(SIGNATURE);
      if (sigHex === undefined || sigHex === "") return reject(SIGNATURE, "the header is missing");
      const timestamp = req.header(TIMESTAMP);
      if (timestamp === undefined || timestamp === "") return reject(TIMESTAMP, "the header is missing");
      const signature = hexToBytes(sigHex);
      if (signature === undefined || signature.byteLength !== 64) return reject(SIGNATURE, "expected 128 hex digits");
      const tolerance = ctx.toleranceSeconds ?? toleranceSeconds;
      let timestampMs: number | undefined;
      if (tolerance !== Number.POSITIVE_INFINITY) {
        timestampMs = parseTimestamp(timestamp, "s");
        if (timestampMs === undefined) return reject(TIMESTAMP, "expected a whole number of seconds");
        const tooFar = checkWindow(timestampMs, ctx.nowMs, tolerance, TIMESTAMP);
        if (tooFar) return tooFar;
      } else {
        timestampMs = parseTimestamp(timestamp, "s");
      }
      const index = firstValidKey(keys, [timestamp, req.body], [signature]);
      return typeof index === "number" ? finish(req, index, timestampMs) : index.then((i) => finish(req, i, timestampMs));
    },
    async sign(body, o) {
      if (!signer) throw new TypeError(`hookguard: ${where}: signing needs \`privateKey\` (an Ed25519 seed in hex); only tests and local tools sign Discord requests`);
      const timestamp = String(Math.floor(o.timestampMs / 1000));
      const signature = await signer.sign([timestamp, body]);
      return { "content-type": o.contentType, [SIGNATURE]: bytesToHex(signature), [TIMESTAMP]: timestamp };
    },
  };
}
