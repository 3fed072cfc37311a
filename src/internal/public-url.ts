// The public URL of a request, for the providers that sign it (Twilio, Square, HubSpot).
// A server behind a proxy or a load balancer sees its own host, port and scheme, not the
// ones the provider requested: the URL must come from configuration or from a request.url
// the application rebuilt from trusted forwarding headers.
import type { VerifyFailure } from "../types";

/** How a URL-signed scheme learns the URL the provider requested. */
export interface PublicUrlOptions {
  /**
   * The exact public URL the provider calls (scheme, host, port if any, path, query), as
   * configured in its dashboard. Overrides `request.url` entirely: use it for endpoints with
   * one fixed URL.
   */
  readonly url?: string;
  /**
   * The public origin (and optional path prefix), e.g. `"https://api.example.com"`: replaces
   * the scheme, host and port of `request.url` (which may then be a path such as Express's
   * `req.originalUrl`), keeping its path and query.
   */
  readonly baseUrl?: string;
}

const ABSOLUTE_RE = /^[a-z][a-z0-9+.-]*:\/\//i;
const ORIGIN_RE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** Throws at construction if `url` / `baseUrl` are not absolute URLs. */
export function checkUrlOptions(options: PublicUrlOptions | undefined, where: string): void {
  for (const key of ["url", "baseUrl"] as const) {
    const value = options?.[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !ABSOLUTE_RE.test(value)) {
      throw new TypeError(`hookguard: ${where}: \`${key}\` must be an absolute URL such as "https://api.example.com${key === "url" ? "/webhooks" : ""}", got ${typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : typeof value}`);
    }
  }
}

/**
 * Resolves the URL to verify: `url` if configured; else `baseUrl` + the path and query of
 * `requestUrl`; else `requestUrl` if it is absolute. `undefined` when none of these applies.
 */
export function resolvePublicUrl(requestUrl: string | undefined, options: PublicUrlOptions | undefined): string | undefined {
  if (options?.url !== undefined) return options.url;
  if (requestUrl === undefined || requestUrl === "") return undefined;
  if (options?.baseUrl !== undefined) {
    const pathAndQuery = ABSOLUTE_RE.test(requestUrl) ? requestUrl.replace(ORIGIN_RE, "") : requestUrl;
    const base = options.baseUrl.replace(/\/+$/, "");
    return base + (pathAndQuery.startsWith("/") || pathAndQuery === "" ? pathAndQuery : `/${pathAndQuery}`);
  }
  return ABSOLUTE_RE.test(requestUrl) ? requestUrl : undefined;
}

/** The failure for a request whose public URL is unknown: a server configuration problem. */
export function missingUrl(requestUrl: string | undefined): VerifyFailure {
  return {
    ok: false,
    code: "url_unknown",
    detail:
      requestUrl === undefined || requestUrl === ""
        ? "this provider signs the request URL, but the request carries none: pass request.url, or configure the scheme's url or baseUrl option"
        : "this provider signs the full request URL, but request.url is not absolute: configure the scheme's baseUrl (e.g. \"https://api.example.com\") or url option",
  };
}

/** The URL without its query, for failure details: enough to spot a proxy rewrite, never a query token. */
export function urlForDetail(url: string): string {
  const cut = url.search(/[?#]/);
  // Userinfo (https://user:pass@host) is a credential: never in a message.
  return (cut < 0 ? url : url.slice(0, cut)).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}
