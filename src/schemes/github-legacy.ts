/**
 * GitHub with the legacy `X-Hub-Signature: sha1=<hex HMAC-SHA1>` as a fallback, for
 * senders that do not write `X-Hub-Signature-256` (old GitHub Enterprise Server releases,
 * tools that replay GitHub deliveries).
 *
 * @module
 */
import { buildHmacScheme } from "./hmac";
import type { GitHubOptions } from "./github";
import type { WebhookScheme } from "../types";

/** Options of {@link githubLegacy}: those of `github()`. */
export type GitHubLegacyOptions = GitHubOptions;

/**
 * Verifies GitHub webhooks by `X-Hub-Signature-256` exactly as `github()` does, and, only
 * when that header is absent, by the legacy SHA-1 `X-Hub-Signature`.
 *
 * A request that carries `X-Hub-Signature-256` is judged on it alone: a bad SHA-256
 * signature is not rescued by a good SHA-1 one. Prefer `github()` unless a sender you rely
 * on still writes only the SHA-1 header. Signing writes both headers, as GitHub does.
 *
 * From `hookguard`.
 *
 * @example
 * ```ts
 * import { githubLegacy, verifyWebhook } from "hookguard";
 * const event = await verifyWebhook({ body, headers }, githubLegacy({ secret: process.env.GITHUB_WEBHOOK_SECRET! }));
 * ```
 */
export function githubLegacy<TPayload = Record<string, unknown>>(options: GitHubLegacyOptions): WebhookScheme<TPayload> {
  const common = {
    name: "github",
    secret: options?.secret,
    crypto: options?.crypto,
    id: { header: "x-github-delivery" },
    type: { header: "x-github-event" },
  } as const;
  const sha256 = buildHmacScheme<TPayload>({ ...common, signature: { header: "x-hub-signature-256", encoding: "hex", prefix: "sha256=" } }, "githubLegacy()");
  const sha1 = buildHmacScheme<TPayload>({ ...common, algorithm: "sha1", signature: { header: "x-hub-signature", encoding: "hex", prefix: "sha1=" } }, "githubLegacy()");
  return {
    name: "github",
    toleranceSeconds: undefined,
    verify: (req, ctx) => (req.header("x-hub-signature-256") === undefined && req.header("x-hub-signature") !== undefined ? sha1 : sha256).verify(req, ctx),
    async sign(body, o) {
      const headers = await sha256.sign(body, o);
      const legacy = await sha1.sign(body, { ...o, id: headers["x-github-delivery"] });
      return { ...headers, "x-hub-signature": legacy["x-hub-signature"]! };
    },
  };
}
