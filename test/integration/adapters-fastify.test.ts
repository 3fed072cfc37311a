// hookguard/fastify against a real Fastify 5 server on port 0, with deliveries signed by
// the official Stripe and GitHub SDKs. The webhook routes' raw-body parser must stay inside
// their plugins: JSON everywhere else is parsed as before.
import { request as httpRequest } from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookReceiver, github, stripe, type VerifiedWebhook } from "../../src/index";
import { handleWebhooks, verifyWebhook } from "../../src/adapters/fastify";
import {
  GITHUB_SECRET,
  ODD_RESPONSE,
  STALE,
  STRIPE_SECRET,
  bodyText,
  expectFailure,
  expectOddResponse,
  fakeReceiver,
  githubDelivery,
  post,
  postEndless,
  postSized,
  recordingLogger,
  stripeDelivery,
  tampered,
} from "./adapters-helpers";

describe("hookguard/fastify", () => {
  const seen: VerifiedWebhook<Record<string, unknown>>[] = [];
  const bodies: unknown[] = [];
  const logger = recordingLogger();
  const fake = fakeReceiver(ODD_RESPONSE);
  const receiver = createWebhookReceiver({ scheme: stripe({ secret: STRIPE_SECRET }) });
  const processed: string[] = [];
  receiver.on("invoice.paid", (event) => void processed.push(event.id!));
  const logLines: { level: number; msg: string }[] = [];
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify({ logger: { level: "warn", stream: { write: (line: string) => void logLines.push(JSON.parse(line) as { level: number; msg: string }) } } });
    const stripeScheme = stripe<Record<string, unknown>>({ secret: STRIPE_SECRET });
    // An ordinary JSON route declared before the webhook plugins, one after, and one in a sibling plugin.
    app.post("/json-before", async (request) => ({ echoed: request.body }));
    app.register(
      verifyWebhook(stripeScheme, async (event, request, reply) => {
        seen.push(event);
        bodies.push(request.body);
        return reply.code(200).send({ received: event.id });
      }),
      { path: "/stripe" },
    );
    app.register(
      verifyWebhook(github<Record<string, unknown>>({ secret: GITHUB_SECRET }), async (event) => {
        seen.push(event);
        return { type: event.type };
      }),
      { path: "/github" },
    );
    app.register(verifyWebhook(stripeScheme, async (event) => void seen.push(event), { maxBodyBytes: 1024 }), { path: "/small" });
    app.register(
      verifyWebhook(stripeScheme, async () => {
        throw new Error("handler exploded");
      }),
      { path: "/throws" },
    );
    app.register(handleWebhooks(receiver), { path: "/receiver" });
    app.register(handleWebhooks(fake), { path: "/fake" });
    app.register(handleWebhooks(fake, { maxBodyBytes: 1024 }), { path: "/fake-small" });
    app.register(handleWebhooks(fake, { baseUrl: "https://hooks.example.com" }), { path: "/url-base" });
    app.register(handleWebhooks(fake), { prefix: "/hooks", path: "/inner" });
    // Something else sets request.body on a bodyless request: the route must not trust it.
    app.register(async (child) => {
      child.addHook("preValidation", async (request) => {
        request.body = { put: "by a hook" };
      });
      child.register(handleWebhooks(fake, { logger }), { path: "/hooked" });
    });
    app.register(async (child) => {
      child.post("/child-json", async (request) => ({ echoed: request.body }));
    });
    app.post("/json-after", async (request) => ({ echoed: request.body }));
    app.post("/text-after", async (request) => ({ type: typeof request.body, echoed: request.body }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(() => app.close());

  it("runs the handler with the event, the request (raw Buffer body) and the reply for a Stripe SDK delivery", async () => {
    const d = stripeDelivery("invoice.paid");
    const r = await post(`${base}/stripe`, d);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ received: d.id });
    const event = seen.find((e) => e.id === d.id)!;
    expect(event.type).toBe("invoice.paid");
    expect(event.payload).toEqual(JSON.parse(d.body));
    expect(Buffer.isBuffer(bodies.at(-1))).toBe(true);
    expect((bodies.at(-1) as Buffer).toString()).toBe(d.body);
  });

  it("runs the handler for a GitHub delivery signed by @octokit/webhooks-methods", async () => {
    const d = await githubDelivery("issues");
    const r = await post(`${base}/github`, d);
    expect(r.json).toEqual({ type: "issues" });
    expect(seen.find((e) => e.id === d.id)?.type).toBe("issues");
  });

  it("reads the raw body whatever the content type, or with none", async () => {
    const d = stripeDelivery();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]) {
      const r = await post(`${base}/fake`, { body: d.body, headers: { ...d.headers, "content-type": type } });
      expect(r.status).toBe(299);
      expect(bodyText(fake.calls.at(-1)!)).toBe(d.body);
    }
    const { "content-type": _omitted, ...untyped } = d.headers;
    const res = await app.inject({ method: "POST", url: "/fake", headers: untyped, payload: d.body });
    expect(res.statusCode).toBe(299);
    expect(bodyText(fake.calls.at(-1)!)).toBe(d.body);
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

  it("leaves JSON parsing of every other route unchanged", async () => {
    const json = { body: JSON.stringify({ a: [1, 2] }), headers: { "content-type": "application/json" } };
    for (const path of ["/json-before", "/json-after", "/child-json"]) {
      expect((await post(`${base}${path}`, json)).json).toEqual({ echoed: { a: [1, 2] } });
    }
    // Fastify's own JSON parser still answers bad JSON, and its text parser still runs.
    const broken = await post(`${base}/json-after`, { body: "{nope", headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.json.code).toBe("FST_ERR_CTP_INVALID_JSON_BODY");
    expect((await post(`${base}/text-after`, { body: "hi", headers: { "content-type": "text/plain" } })).json).toEqual({ type: "string", echoed: "hi" });
    // No catch-all parser leaked out of the plugins: an unknown type is still refused.
    expect((await post(`${base}/json-after`, { body: "x", headers: { "content-type": "application/x-unknown" } })).status).toBe(415);
  });

  it("answers 413 payload_too_large for a Content-Length over the limit and for an endless chunked body", async () => {
    expectFailure(await postSized(`${base}/small`, 2048, { "content-type": "application/json" }), 413, "payload_too_large");
    expectFailure(await postSized(`${base}/small`, 8 * 1024 * 1024, { "content-type": "application/json" }), 413, "payload_too_large");
    const calls = fake.calls.length;
    expectFailure(await postSized(`${base}/fake-small`, 2048), 413, "payload_too_large");
    const endless = await postEndless(`${base}/small`, { "content-type": "application/json" });
    expectFailure(endless, 413, "payload_too_large");
    expect(endless.headers.get("connection")).toBe("close");
    expectFailure(await postEndless(`${base}/fake-small`), 413, "payload_too_large");
    expect(fake.calls.length).toBe(calls);
  });

  it("answers a body someone else put on the request 500 body_not_raw, pointing at the plugin, logged once", async () => {
    const calls = fake.calls.length;
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ method: "POST", url: "/hooked" });
      expect(res.statusCode).toBe(500);
      const json = res.json() as { error: string; message: string };
      expect(json.error).toBe("body_not_raw");
      expect(json.message).toContain("hookguard/fastify");
      expect(json.message).toContain("request.body is an already-parsed object");
      expect(json.message).toContain("app.register(verifyWebhook(scheme, handler), { path })");
    }
    expect(logger.warnings).toHaveLength(1);
    expect(fake.calls.length).toBe(calls);
  });

  it("sends a handler's error to Fastify's error handler", async () => {
    const r = await post(`${base}/throws`, stripeDelivery());
    expect(r.status).toBe(500);
    expect(r.json.message).toBe("handler exploded");
  });

  it("handleWebhooks sends the receiver's response as it is, with the raw request and its URL", async () => {
    const d = stripeDelivery();
    expectOddResponse(await post(`${base}/fake?attempt=2`, d));
    await post(`${base}/url-base?q=1`, d);
    expectOddResponse(await post(`${base}/hooks/inner`, d));
    const calls = fake.calls.slice(-3);
    expect(calls.map((c) => c.url)).toEqual([`${base}/fake?attempt=2`, "https://hooks.example.com/url-base?q=1", `${base}/hooks/inner`]);
    expect(bodyText(calls[0]!)).toBe(d.body);
  });

  it("handleWebhooks runs a real receiver: processed once, duplicate after", async () => {
    const d = stripeDelivery("invoice.paid");
    expect((await post(`${base}/receiver`, d)).json.status).toBe("processed");
    expect((await post(`${base}/receiver`, d)).json.status).toBe("duplicate");
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it("drops a request whose client went away mid-body, and keeps serving", async () => {
    const calls = fake.calls.length;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/fake`, { method: "POST", headers: { "content-type": "application/json", "content-length": "100000" } });
      req.on("error", () => resolve());
      req.write("x".repeat(1000), () => setTimeout(() => req.destroy(), 50));
    });
    expectOddResponse(await post(`${base}/fake`, stripeDelivery()));
    expect(fake.calls.length).toBe(calls + 1);
  });

  it("made Fastify log no warning (no reply sent twice, no promise resolved without a reply)", () => {
    expect(logLines.filter((l) => l.level === 40)).toEqual([]);
    // The one error logged is the handler that threw on purpose.
    expect(logLines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(["handler exploded"]);
  });

  it("refuses to register without a path", async () => {
    const other = Fastify();
    other.register(handleWebhooks(fake), {} as { path: string });
    await expect(other.ready()).rejects.toThrow(/needs the route's path/);
    await other.close();
  });
});
