/**
 * GitLab: `X-Gitlab-Token` carries the configured secret token itself; there is no HMAC.
 *
 * @module
 */
import { digest, randomId, resolveCrypto, timingSafeEqual, type CryptoPreference } from "../internal/crypto";
import { parsePayload } from "../internal/payload";
import { secretList } from "../internal/secrets";
import type { SchemeRequest, VerifyOutcome, WebhookScheme } from "../types";

/** Options of {@link gitlab}. GitLab signs no timestamp. */
export interface GitLabOptions {
  /** The webhook's secret token; several while you rotate. */
  readonly secret: string | readonly string[];
  /** Forces an implementation: `"web"` runs Web Crypto even on Node. @default node:crypto when available */
  readonly crypto?: CryptoPreference;
}

const TOKEN = "x-gitlab-token";

/**
 * Verifies GitLab webhooks by their `X-Gitlab-Token`.
 *
 * - The token is compared in constant time: both it and each configured secret are hashed
 *   with SHA-256 and the equal-length digests compared, so neither the content nor the
 *   length of the secret leaks through timing.
 * - A token proves only that the sender knows the secret: the body is not signed and no
 *   timestamp is, so use HTTPS, and consider GitLab's signing token (Standard Webhooks:
 *   `standardWebhooks({ secret })`) where your GitLab offers it.
 * - `id` is `Idempotency-Key` (GitLab ≥ 17.4, stable across retries), else
 *   `X-Gitlab-Event-UUID`; `type` is `X-Gitlab-Event` (`Push Hook`).
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { gitlab, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body: rawBody, headers }, gitlab({ secret: process.env.GITLAB_WEBHOOK_TOKEN! }));
 * ```
 */
export function gitlab<TPayload = Record<string, unknown>>(options: GitLabOptions): WebhookScheme<TPayload> {
  const where = "gitlab()";
  const impl = resolveCrypto(options?.crypto);
  const secrets = secretList(options?.secret, where);
  let secretDigests: (Uint8Array | Promise<Uint8Array>)[] | undefined;
  const digests = () => (secretDigests ??= secrets.map((s) => digest("sha256", [s], impl)));

  function finish(req: SchemeRequest, index: number): VerifyOutcome<TPayload> {
    if (index < 0) return { ok: false, code: "signature_mismatch", header: TOKEN, detail: "the token is not the webhook's configured secret token" };
    const parsed = parsePayload(req.body, req.header("content-type"));
    if (parsed === undefined) return { ok: false, code: "invalid_json" };
    return {
      ok: true,
      webhook: {
        id: req.header("idempotency-key") ?? req.header("x-gitlab-event-uuid"),
        type: req.header("x-gitlab-event"),
        timestamp: undefined,
        payload: parsed.value as TPayload,
        rawBody: req.body,
        scheme: "gitlab",
        secretIndex: index,
      },
    };
  }

  return {
    name: "gitlab",
    toleranceSeconds: undefined,
    verify(req) {
      const token = req.header(TOKEN);
      if (token === undefined) return { ok: false, code: "missing_header", header: TOKEN };
      const tokenDigest = digest("sha256", [token], impl);
      if (tokenDigest instanceof Promise) {
        return (async () => {
          const t = await tokenDigest;
          const list = digests();
          for (let i = 0; i < list.length; i++) if (timingSafeEqual(t, await list[i]!, impl)) return finish(req, i);
          return finish(req, -1);
        })();
      }
      const list = digests() as Uint8Array[];
      for (let i = 0; i < list.length; i++) if (timingSafeEqual(tokenDigest, list[i]!, impl)) return finish(req, i);
      return finish(req, -1);
    },
    async sign(_body, o) {
      const id = o.id ?? randomId();
      const headers: Record<string, string> = { "content-type": o.contentType, [TOKEN]: secrets[0]!, "x-gitlab-event-uuid": id, "idempotency-key": id };
      if (o.type !== undefined) headers["x-gitlab-event"] = o.type;
      return headers;
    },
  };
}
