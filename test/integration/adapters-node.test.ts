// hookguard/node against real node:http servers on port 0, with deliveries signed by the
// official Stripe and GitHub SDKs.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWebhookReceiver, github, signWebhook, slack, stripe, type VerifiedWebhook } from "../../src/index";
import { handleWebhooks, verifyWebhook } from "../../src/adapters/node";
import {
  GITHUB_SECRET,
  ODD_RESPONSE,
  STALE,
  STRIPE_SECRET,
  bodyText,
  close,
  expectFailure,
  expectOddResponse,
  fakeReceiver,
  githubDelivery,
  listen,
  post,
  postEndless,
  postSized,
  recordingLogger,
  stripeDelivery,
  tampered,
} from "./adapters-helpers";

type Listener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** One server, routed by path, so every listener is exercised over real HTTP. */
function router(routes: Record<string, Listener>, pending: Promise<void>[]): Server {
  return createServer((req, res) => {
    const listener = routes[new URL(req.url!, "http://x").pathname];
    if (!listener) return void res.writeHead(404).end();
    pending.push(listener(req, res));
  });
}

/** Reads the stream first, as a body parser would, then hands the request on. */
function parseFirst(listener: Listener): Listener {
  return async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    (req as IncomingMessage & { body?: unknown }).body = JSON.parse(text);
    return listener(req, res);
  };
}

/** Reads the stream first but keeps the bytes in req.rawBody. */
function keepRawBody(listener: Listener): Listener {
  return async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    Object.assign(req, { rawBody: Buffer.concat(chunks), body: JSON.parse(Buffer.concat(chunks).toString()) });
    return listener(req, res);
  };
}

describe("hookguard/node", () => {
  const seen: VerifiedWebhook<Record<string, unknown>>[] = [];
  const logger = recordingLogger();
  const fake = fakeReceiver(ODD_RESPONSE);
  const receiver = createWebhookReceiver({ scheme: stripe({ secret: STRIPE_SECRET }) });
  const processed: string[] = [];
  receiver.on("invoice.paid", (event) => void processed.push(event.id!));
  const slackScheme = slack({ secret: "slack-signing-secret" });
  const pending: Promise<void>[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const stripeScheme = stripe<Record<string, unknown>>({ secret: STRIPE_SECRET });
    const record = verifyWebhook(stripeScheme, (event, _req, res) => {
      seen.push(event);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ received: event.id }));
    });
    server = router(
      {
        "/stripe": record,
        "/github": verifyWebhook(github<Record<string, unknown>>({ secret: GITHUB_SECRET }), (event, _req, res) => {
          seen.push(event);
          res.writeHead(204).end();
        }),
        "/small": verifyWebhook(stripeScheme, (event, _req, res) => void (seen.push(event), res.end()), { maxBodyBytes: 1024 }),
        "/parsed": parseFirst(verifyWebhook(stripeScheme, (event) => void seen.push(event), { logger })),
        "/parsed-receiver": parseFirst(handleWebhooks(fake, { logger })),
        "/raw-body": keepRawBody(record),
        "/throws": verifyWebhook(stripeScheme, () => Promise.reject(new Error("handler exploded")), { logger }),
        "/receiver": handleWebhooks(receiver),
        "/receiver-throws": handleWebhooks({ receive: () => Promise.reject(new Error("receiver exploded")) }, { logger }),
        "/throws-late": verifyWebhook(stripeScheme, (_event, _req, res) => {
          res.writeHead(200).write("partial");
          throw new Error("late failure");
        }, { logger }),
        "/fake": handleWebhooks(fake),
        "/fake-small": handleWebhooks(fake, { maxBodyBytes: 1024 }),
        "/url-base": handleWebhooks(fake, { baseUrl: "https://hooks.example.com" }),
        "/url-fn": handleWebhooks(fake, { publicUrl: (req) => `https://fn.example.com${req.url}` }),
        "/slack": verifyWebhook(slackScheme, (event, _req, res) => void (seen.push(event as VerifiedWebhook<Record<string, unknown>>), res.end())),
        "/pinned-clock": verifyWebhook(stripeScheme, (event, _req, res) => void (seen.push(event), res.end("ok")), { now: Date.now() - 3600_000, toleranceSeconds: 60 }),
      },
      pending,
    );
    base = await listen(server);
  });

  afterAll(() => close(server));

  it("runs the handler with the event for deliveries signed by the Stripe and GitHub SDKs", async () => {
    const d = stripeDelivery("invoice.paid");
    const r = await post(`${base}/stripe`, d);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ received: d.id });
    expect(seen.find((e) => e.id === d.id)?.payload).toEqual(JSON.parse(d.body));
    const g = await githubDelivery("pull_request");
    expect((await post(`${base}/github`, g)).status).toBe(204);
    expect(seen.find((e) => e.id === g.id)?.type).toBe("pull_request");
  });

  it("answers tampered, stale and unsigned requests with their code, never running the handler", async () => {
    const bad = [
      ["/stripe", tampered(stripeDelivery()), 401, "signature_mismatch"],
      ["/github", tampered(await githubDelivery()), 401, "signature_mismatch"],
      ["/stripe", stripeDelivery("invoice.paid", { timestamp: STALE() }), 401, "timestamp_too_old"],
      ["/stripe", { ...stripeDelivery(), headers: { "content-type": "application/json" } }, 400, "missing_header"],
      ["/github", { ...(await githubDelivery()), headers: { "content-type": "application/json" } }, 400, "missing_header"],
    ] as const;
    for (const [path, d, status, code] of bad) {
      expectFailure(await post(`${base}${path}`, d), status, code);
      expect(seen.some((e) => e.id === d.id)).toBe(false);
    }
  });

  it("passes now and toleranceSeconds through to verification", async () => {
    // The adapter's clock is an hour behind: a fresh delivery looks an hour in the future.
    expectFailure(await post(`${base}/pinned-clock`, stripeDelivery()), 401, "timestamp_too_new");
    const r = await post(`${base}/pinned-clock`, stripeDelivery("invoice.paid", { timestamp: Math.floor(Date.now() / 1000) - 3600 }));
    expect(r.status).toBe(200);
  });

  it("answers a stream already read by a parser 500 body_not_raw with what to change, logged once", async () => {
    const r = await post(`${base}/parsed`, stripeDelivery());
    expectFailure(r, 500, "body_not_raw");
    expect(r.json.message).toContain("hookguard/node");
    expect(r.json.message).toContain("req.body is an already-parsed object");
    expect(r.json.message).toContain("req.rawBody");
    expectFailure(await post(`${base}/parsed-receiver`, stripeDelivery()), 500, "body_not_raw");
    expect(logger.warnings).toEqual([r.json.message]);
  });

  it("logs body_not_raw to console.warn once per process by default", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const listener = parseFirst(verifyWebhook(stripe({ secret: STRIPE_SECRET }), () => {}));
      const other = parseFirst(handleWebhooks(fake));
      const s = createServer((req, res) => void (req.url === "/a" ? listener : other)(req, res));
      const url = await listen(s);
      for (const path of ["/a", "/a", "/b"]) expectFailure(await post(`${url}${path}`, stripeDelivery()), 500, "body_not_raw");
      await close(s);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain("hookguard/node: the request body was already parsed or read");
    } finally {
      warn.mockRestore();
    }
  });

  it("uses req.rawBody when a middleware kept the bytes", async () => {
    const d = stripeDelivery();
    expect((await post(`${base}/raw-body`, d)).json).toEqual({ received: d.id });
  });

  it("answers 413 payload_too_large for a Content-Length over the limit and for an endless chunked body", async () => {
    expectFailure(await postSized(`${base}/small`, 2048), 413, "payload_too_large");
    expectFailure(await postSized(`${base}/small`, 8 * 1024 * 1024), 413, "payload_too_large");
    expectFailure(await postSized(`${base}/fake-small`, 2048), 413, "payload_too_large");
    const endless = await postEndless(`${base}/small`);
    expectFailure(endless, 413, "payload_too_large");
    expect(endless.headers.get("connection")).toBe("close");
    expectFailure(await postEndless(`${base}/fake-small`), 413, "payload_too_large");
    expect(fake.calls).toHaveLength(0);
  });

  it("accepts a body of exactly maxBodyBytes", async () => {
    const d = stripeDelivery();
    const padded = { ...d, body: d.body.padEnd(1024, " ") };
    // The padding changes the body: it fails on the signature, which proves it was read.
    expectFailure(await post(`${base}/small`, padded), 401, "signature_mismatch");
  });

  it("logs a handler's error and answers 500 handler_failed; the server keeps serving", async () => {
    const r = await post(`${base}/throws`, stripeDelivery());
    expect(r.status).toBe(500);
    expect(r.json.error).toBe("handler_failed");
    expect(logger.errors.at(-1)).toContain("handler exploded");
    const d = stripeDelivery();
    expect((await post(`${base}/stripe`, d)).json).toEqual({ received: d.id });
  });

  it("answers 500 when receiver.receive() rejects, and cuts a response a failing handler had started", async () => {
    const r = await post(`${base}/receiver-throws`, stripeDelivery());
    expect([r.status, r.json.error]).toEqual([500, "handler_failed"]);
    expect(logger.errors.at(-1)).toContain("receiver exploded");
    // Headers already went out as 200: the only honest signal left is a cut connection.
    await expect(post(`${base}/throws-late`, stripeDelivery())).rejects.toThrow();
    expect(logger.errors.at(-1)).toContain("late failure");
  });

  it("answers a verified Slack url_verification handshake itself, and never for a forged one", async () => {
    const body = JSON.stringify({ type: "url_verification", challenge: "challenge-token-123", token: "x" });
    const ok = await post(`${base}/slack`, { body, headers: { "content-type": "application/json", ...(await signWebhook(body, slackScheme)) } });
    expect(ok.json).toEqual({ challenge: "challenge-token-123" });
    const forged = await post(`${base}/slack`, { body, headers: { "x-slack-signature": `v0=${"0".repeat(64)}`, "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)) } });
    expectFailure(forged, 401, "signature_mismatch");
    expect(forged.text).not.toContain("challenge-token-123");
    expect(seen.some((e) => e.type === "url_verification")).toBe(false);
  });

  it("handleWebhooks writes the receiver's response as it is, with the raw request and its URL", async () => {
    const d = stripeDelivery();
    expectOddResponse(await post(`${base}/fake?attempt=1`, d));
    await post(`${base}/url-base?q=2`, d);
    await post(`${base}/url-fn`, d);
    const calls = fake.calls.slice(-3);
    expect(calls.map((c) => c.url)).toEqual([`${base}/fake?attempt=1`, "https://hooks.example.com/url-base?q=2", "https://fn.example.com/url-fn"]);
    expect(bodyText(calls[0]!)).toBe(d.body);
    expect(calls[0]!.method).toBe("POST");
  });

  it("handleWebhooks runs a real receiver: processed once, duplicate after", async () => {
    const d = stripeDelivery("invoice.paid");
    expect((await post(`${base}/receiver`, d)).json.status).toBe("processed");
    expect((await post(`${base}/receiver`, d)).json.status).toBe("duplicate");
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it("settles without answering when the client goes away mid-body", async () => {
    const before = fake.calls.length;
    const count = pending.length;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/fake`, { method: "POST", headers: { "content-length": "100000" } });
      req.on("error", () => resolve());
      req.write("x".repeat(1000), () => setTimeout(() => req.destroy(), 50));
    });
    await vi.waitFor(() => expect(pending.length).toBe(count + 1));
    await pending.at(-1);
    expect(fake.calls.length).toBe(before);
  });
});
