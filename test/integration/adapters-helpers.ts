// Shared by the adapters-*.test.ts suites: deliveries signed by the providers' official SDKs
// (the oracle), real HTTP against servers on port 0, and a fake receiver.
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign as signGitHub } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { expect } from "vitest";
import type { WebhookRequest, WebhookResponse } from "../../src/index";
import type { AdapterLogger, ReceiverLike } from "../../src/adapters/node";

export const STRIPE_SECRET = "whsec_adapters_integration_test";
export const GITHUB_SECRET = "adapters-integration-github-secret";

const stripeSdk = new Stripe("sk_test_adapters");

/** A signed delivery: the exact body bytes and the headers the provider sends. */
export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

let counter = 0;

/** A Stripe event signed by `stripe`'s own `generateTestHeaderString`. */
export function stripeDelivery(type = "invoice.paid", options: { timestamp?: number; id?: string } = {}): Delivery & { id: string } {
  const id = options.id ?? `evt_adapters_${++counter}_${Date.now()}`;
  const body = JSON.stringify({ id, object: "event", type, data: { object: { id: "in_123", amount_paid: 4200 } } }, null, 2);
  const signature = stripeSdk.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET, timestamp: options.timestamp });
  return { id, body, headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": signature } };
}

/** A GitHub delivery signed by `@octokit/webhooks-methods`' `sign`. */
export async function githubDelivery(event = "push"): Promise<Delivery & { id: string }> {
  const id = `4c0ffee0-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
  const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "hookguard/hookguard" }, commits: [{ id: "abc" }] });
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": await signGitHub(GITHUB_SECRET, body),
    },
  };
}

/** The same delivery with one byte of the body changed after signing. */
export function tampered<D extends Delivery>(delivery: D): D {
  return { ...delivery, body: delivery.body.replace("4200", "4201").replace("abc", "abd") };
}

/** Starts a Node server on an ephemeral port; returns its base URL. */
export async function listen(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the test looks at `text`
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs a delivery over real HTTP. */
export async function post(url: string, delivery: Delivery | { body: string; headers?: Record<string, string> }): Promise<Reply> {
  return reply(await fetch(url, { method: "POST", body: delivery.body, headers: delivery.headers }));
}

/**
 * POSTs a chunked body with no Content-Length that never ends on its own: 64 KiB chunks
 * for as long as the server reads. Only a server that stops reading at its limit answers.
 * Returns the reply and how many bytes the client managed to hand to the socket.
 */
export async function postEndless(url: string, headers: Record<string, string> = {}): Promise<Reply & { sentBytes: number }> {
  let sentBytes = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      sentBytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const response = await fetch(url, { method: "POST", body, headers, duplex: "half" } as RequestInit & { duplex: "half" });
  return { ...(await reply(response)), sentBytes };
}

/** POSTs a body of `size` bytes with its Content-Length. */
export async function postSized(url: string, size: number, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { method: "POST", body: new Uint8Array(size).fill(0x62), headers }));
}

/** A receiver stand-in: records what it was given and answers a fixed response. */
export function fakeReceiver(response: WebhookResponse): ReceiverLike & { calls: WebhookRequest[] } {
  const calls: WebhookRequest[] = [];
  return {
    calls,
    async receive(request) {
      calls.push(request);
      return response;
    },
  };
}

/** An unusual response, to prove it is written exactly as given. */
export const ODD_RESPONSE: WebhookResponse = Object.freeze({
  status: 299,
  headers: Object.freeze({ "content-type": "text/plain; charset=utf-8", "x-hookguard-test": "as-is", "retry-after": "7" }),
  body: "written as-is ✓",
});

export function expectOddResponse(r: Reply): void {
  expect(r.status).toBe(299);
  expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(r.headers.get("x-hookguard-test")).toBe("as-is");
  expect(r.headers.get("retry-after")).toBe("7");
  expect(r.text).toBe("written as-is ✓");
}

/** A logger that records what it was told. */
export function recordingLogger(): AdapterLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (m) => void warnings.push(m), error: (m) => void errors.push(m) };
}

/** The body bytes a receiver was handed, as text. */
export function bodyText(request: WebhookRequest): string {
  const { body } = request;
  return typeof body === "string" ? body : Buffer.from(body instanceof ArrayBuffer ? new Uint8Array(body) : body).toString("utf8");
}

/** A stale timestamp: an hour ago, far outside Stripe's 300 s tolerance. */
export const STALE = () => Math.floor(Date.now() / 1000) - 3600;

/** Asserts a failure response: the code, its status, and a message that leaks no secret. */
export function expectFailure(r: Reply, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.json.error).toBe(code);
  // As hookguard wrote it; Fastify appends its charset to every JSON content type it sends.
  expect(r.headers.get("content-type")).toMatch(/^application\/json(?:; charset=utf-8)?$/);
  expect(typeof r.json.message).toBe("string");
  expect(r.text).not.toContain(STRIPE_SECRET);
  expect(r.text).not.toContain(GITHUB_SECRET);
}
