// Request fixtures for the verification bench: JSON events of an exact size, as Buffers
// (what adapters receive), signed by hookguard and accepted by every peer (each row's
// check proves it), with headers shaped like Node's IncomingHttpHeaders.
import { Buffer } from "node:buffer";
import { signWebhook } from "../src/sign";
import type { WebhookScheme } from "../src/types";

export const STRIPE_SECRET = "whsec_bench_5f1c2a9e7d3b4c6a8e0f1a2b3c4d5e6f";
export const GITHUB_SECRET = "gh-bench-secret-4c6a8e0f1a2b3c4d";
// 32 random-looking bytes, as Svix hands them out.
export const STANDARD_SECRET = `whsec_${Buffer.from("hookguard-bench-standard-webhook!").toString("base64")}`;

/** A JSON event of exactly `bytes` bytes (UTF-8), with some non-ASCII text as real events have. */
export function jsonEvent(bytes: number, top: Record<string, unknown>): Buffer {
  const items: unknown[] = [];
  const event = { ...top, data: { object: { items } }, pad: "" };
  const size = () => Buffer.byteLength(JSON.stringify(event));
  for (let i = 0; size() < bytes - 200; i++) {
    items.push({
      id: `li_${i.toString(36).padStart(8, "0")}`,
      amount: 1999 + i,
      currency: "eur",
      description: `Abonnement « Pro » — mois ${i}`,
      metadata: { order: `ord_${i}`, ok: i % 2 === 0 },
    });
  }
  event.pad = "x".repeat(Math.max(0, bytes - size()));
  const body = Buffer.from(JSON.stringify(event));
  if (body.length !== bytes) throw new Error(`fixture is ${body.length} bytes, wanted ${bytes}`);
  return body;
}

/** Headers a Node server would hand over for a webhook POST, besides the provider's own. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  host: "api.example.com",
  "user-agent": "Provider-Webhooks/1.0",
  accept: "*/*",
  "accept-encoding": "gzip",
  "content-type": "application/json; charset=utf-8",
  "x-forwarded-for": "203.0.113.7",
  "x-forwarded-proto": "https",
  "x-request-id": "b7c2a3a0-8c55-4f0e-9a59-7a3a0c1d2e3f",
  connection: "close",
};

export interface SignedFixture {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Signs now (the window is ±300 s, so a group re-signs before it runs). */
export async function signFixture(body: Buffer, scheme: WebhookScheme<unknown>, extra: Record<string, string> = {}, id?: string): Promise<SignedFixture> {
  const signed = await signWebhook(body, scheme, { id, type: extra["x-github-event"] });
  return { body, headers: { ...COMMON_HEADERS, "content-length": String(body.length), ...extra, ...signed, "content-type": COMMON_HEADERS["content-type"]! } };
}
