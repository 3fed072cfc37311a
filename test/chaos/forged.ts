// The attacker of a chaos run: requests that must never be acknowledged, never run a
// handler, never write a store key. Each carries an event id from a reserved range
// (`evt_forged_…`), so afterwards the store and the application tables can be searched for
// any trace of one.
//
// They go over raw TCP, one connection each, so a request can be anything at all: a
// duplicated header, a chunked body, a header Node's parser refuses, bytes that are not HTTP.
import { connect } from "node:net";
import { signWebhook, stripe } from "../../src/index";
import { Semaphore } from "./driver";

/** Every kind of forged request, each answered 4xx (or with a closed connection) and nothing else. */
export const FORGED_KINDS = [
  "bad_signature",
  "tampered_body",
  "stale_timestamp",
  "future_timestamp",
  "replayed_old_request",
  "missing_signature",
  "malformed_signature",
  "duplicate_signature_headers",
  "oversized_body",
  "oversized_chunked_body",
  "oversized_header",
  "not_http",
] as const;
export type ForgedKind = (typeof FORGED_KINDS)[number];

/** A forged request's answer: its status, or what happened instead. */
export type ForgedAnswer = number | "closed" | "timeout";

export interface ForgedOptions {
  readonly secret: string;
  /** The receivers' tolerance, so a replay is built just outside it. */
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  /** The reserved id of the n-th forged request. */
  readonly id: (n: number) => string;
}

const WRONG_SECRET = "whsec_not_the_real_one";

function eventBody(id: string, pad = 0): string {
  return JSON.stringify({ id, type: "chaos.event", data: { forged: true, pad: "x".repeat(pad) } });
}

function rawRequest(head: Record<string, string | string[]>, body: string | Buffer, chunked = false): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  let text = "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n";
  for (const [name, value] of Object.entries(head)) for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
  if (chunked) {
    text += "Transfer-Encoding: chunked\r\n\r\n";
    const parts: Buffer[] = [Buffer.from(text)];
    for (let i = 0; i < bytes.length; i += 16_384) {
      const chunk = bytes.subarray(i, i + 16_384);
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
    }
    parts.push(Buffer.from("0\r\n\r\n"));
    return Buffer.concat(parts);
  }
  text += `Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(text), bytes]);
}

const MALFORMED_SIGNATURES = (now: number): string[] => [
  "",
  "garbage",
  "t=,v1=",
  `t=${now}`,
  `v1=${"ab".repeat(32)}`,
  `t=abc,v1=${"ab".repeat(32)}`,
  `t=${now},v1=zz${"ab".repeat(31)}`,
  `t=${now},v1=${"a".repeat(63)}`,
  `t=${now},t=${now - 1},v1=${"ab".repeat(32)}`,
  `t=${now};v1=${"ab".repeat(32)}`,
  `t=${now},${Array.from({ length: 300 }, (_, i) => `v1=${i.toString(16).padStart(64, "0")}`).join(",")}`,
  `t=1e9,v1=${"ab".repeat(32)}`,
  `t=-${now},v1=${"ab".repeat(32)}`,
  `t=${"9".repeat(40)},v1=${"ab".repeat(32)}`,
  `t=${now},v1=${"AB".repeat(32)}`,
  `t=${now},v0=${"ab".repeat(32)}`,
  `t=${now},v1=${"ab".repeat(32)}`.replace("t=", "T="),
  "\u00e9t=1,v1=\u00ff",
];

/** Builds the raw bytes of the n-th forged request of a kind. */
export async function forgedRequest(kind: ForgedKind, n: number, o: ForgedOptions): Promise<Buffer> {
  const id = o.id(n);
  const now = Math.floor(Date.now() / 1000);
  const wrong = stripe({ secret: WRONG_SECRET, toleranceSeconds: Number.POSITIVE_INFINITY });
  const real = stripe({ secret: o.secret, toleranceSeconds: Number.POSITIVE_INFINITY });
  const body = eventBody(id);
  switch (kind) {
    case "bad_signature":
      return rawRequest(await signWebhook(body, wrong), body);
    case "tampered_body": {
      // A genuine signature over one body, sent with another (a different forged id).
      const headers = await signWebhook(eventBody(`${id}_original`), real);
      return rawRequest(headers, body);
    }
    case "stale_timestamp":
      return rawRequest(await signWebhook(body, wrong, { timestamp: Date.now() - 3_600_000 }), body);
    case "future_timestamp":
      return rawRequest(await signWebhook(body, wrong, { timestamp: Date.now() + 3_600_000 }), body);
    case "replayed_old_request":
      // Signed with the real secret, captured, and replayed once the window has passed.
      return rawRequest(await signWebhook(body, real, { timestamp: Date.now() - (o.toleranceSeconds + 60) * 1000 }), body);
    case "missing_signature":
      return rawRequest({}, body);
    case "malformed_signature": {
      const all = MALFORMED_SIGNATURES(now);
      return rawRequest({ "Stripe-Signature": all[n % all.length]! }, body);
    }
    case "duplicate_signature_headers": {
      const signed = await signWebhook(body, wrong);
      return rawRequest({ "Stripe-Signature": [signed["stripe-signature"]!, `t=${now - 1},v1=${"00".repeat(32)}`] }, body);
    }
    case "oversized_body": {
      const big = eventBody(id, o.maxBodyBytes + 1024);
      return rawRequest(await signWebhook(big, wrong), big);
    }
    case "oversized_chunked_body": {
      const big = eventBody(id, o.maxBodyBytes + 1024);
      return rawRequest(await signWebhook(big, wrong), big, true);
    }
    case "oversized_header": {
      const signed = await signWebhook(body, wrong);
      return rawRequest({ ...signed, "X-Padding": "p".repeat(20_000) }, body);
    }
    case "not_http":
      return Buffer.from(n % 2 === 0 ? "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n" : `POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n${body}`);
  }
}

/** Sends raw bytes on a fresh connection and reads the status line of the answer. */
export function sendRaw(port: number, bytes: Buffer, timeoutMs: number): Promise<ForgedAnswer> {
  return new Promise((resolve) => {
    let head = "";
    let settled = false;
    const socket = connect({ host: "127.0.0.1", port });
    const finish = (a: ForgedAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    socket.on("connect", () => socket.end(bytes));
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) finish(Number(m[1]));
      else if (head.length > 64) finish("closed");
    });
    // The server may close after answering, before our (oversized) body was all written.
    socket.on("error", () => {});
    socket.on("close", () => finish("closed"));
  });
}

/** Per kind: how many were sent and what came back. */
export type ForgedLog = Record<ForgedKind, { sent: number; answers: Record<string, number> }>;

export function emptyForgedLog(): ForgedLog {
  return Object.fromEntries(FORGED_KINDS.map((k) => [k, { sent: 0, answers: {} }])) as ForgedLog;
}

/**
 * Sends `count` forged requests (the kinds in turn), numbered from `first`, at most
 * `concurrency` at once, to random receivers; bounded by `deadline` (epoch ms).
 */
export async function forgeFlood(
  log: ForgedLog,
  first: number,
  count: number,
  o: ForgedOptions & { ports: () => readonly number[]; concurrency: number; timeoutMs: number; deadline: number },
): Promise<void> {
  const gate = new Semaphore(o.concurrency);
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const n = first + i;
      const kind = FORGED_KINDS[n % FORGED_KINDS.length]!;
      await gate.acquire();
      try {
        if (Date.now() > o.deadline) return;
        const live = o.ports();
        const answer = await sendRaw(live[Math.floor(Math.random() * live.length)]!, await forgedRequest(kind, n, o), o.timeoutMs);
        const entry = log[kind];
        entry.sent++;
        entry.answers[answer] = (entry.answers[answer] ?? 0) + 1;
      } finally {
        gate.release();
      }
    }),
  );
}
