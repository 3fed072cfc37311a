// hookguard/express against real Express 5 and Express 4 servers on port 0, with deliveries
// signed by the official Stripe and GitHub SDKs.
import { createServer, type Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import express4 from "express4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookReceiver, github, stripe, type VerifiedWebhook } from "../../src/index";
import { handleWebhooks, verifyWebhook } from "../../src/adapters/express";
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

// Both majors run the same suite; the runtime suite sees them through this loose shape, and
// the "types" block below checks the adapter against each major's real typings.
type Middleware = unknown;
interface AppLike {
  post(path: string, ...handlers: Middleware[]): unknown;
  use(...handlers: Middleware[]): unknown;
}
interface ExpressLike {
  (): AppLike;
  json(options?: object): Middleware;
  raw(options?: object): Middleware;
}

const MAJORS: [string, ExpressLike][] = [
  ["Express 5", express as unknown as ExpressLike],
  ["Express 4", express4 as unknown as ExpressLike],
];

describe.each(MAJORS)("%s", (_name, expressLike) => {
  const seen: VerifiedWebhook<Record<string, unknown>>[] = [];
  const notRawLogger = recordingLogger();
  const fake = fakeReceiver(ODD_RESPONSE);
  const receiver = createWebhookReceiver({ scheme: stripe({ secret: STRIPE_SECRET }) });
  const received: string[] = [];
  receiver.on("invoice.paid", (event) => void received.push(event.id!));
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = expressLike();
    const stripeScheme = stripe<Record<string, unknown>>({ secret: STRIPE_SECRET });
    const record = verifyWebhook(stripeScheme, (event, _req, res) => {
      seen.push(event);
      res.status(200).json({ received: event.id });
    });
    // Declared before express.json(): these routes get the stream untouched.
    app.post("/stripe", record);
    app.post(
      "/github",
      verifyWebhook(github<Record<string, unknown>>({ secret: GITHUB_SECRET }), (event, _req, res) => {
        seen.push(event);
        res.status(202).json({ type: event.type });
      }),
    );
    app.post("/small", verifyWebhook(stripeScheme, (event, _req, res) => void (seen.push(event), res.sendStatus(200)), { maxBodyBytes: 1024 }));
    app.post("/with-raw", expressLike.raw({ type: "*/*" }), record);
    app.post("/with-raw-small", expressLike.raw({ type: "*/*", limit: "10mb" }), verifyWebhook(stripeScheme, () => {}, { maxBodyBytes: 1024 }));
    app.post(
      "/with-rawbody",
      expressLike.json({ verify: (req: { rawBody?: Buffer }, _res: unknown, buf: Buffer) => void (req.rawBody = buf) }),
      record,
    );
    app.post("/receiver", handleWebhooks(receiver));
    app.post("/fake", handleWebhooks(fake));
    app.post("/fake-small", handleWebhooks(fake, { maxBodyBytes: 1024 }));
    app.post(
      "/throws",
      verifyWebhook(stripeScheme, async () => {
        throw new Error("handler exploded");
      }),
    );
    app.post("/receiver-throws", handleWebhooks({ receive: () => Promise.reject(new Error("receiver exploded")) }));
    app.post("/url-base", handleWebhooks(fake, { baseUrl: "https://hooks.example.com/" }));
    app.post("/url-fn", handleWebhooks(fake, { publicUrl: (req) => `https://fn.example.com${req.originalUrl}` }));
    const router = expressLike() as AppLike;
    router.post("/inner", handleWebhooks(fake));
    app.use("/mounted", router);

    // The classic mistake: a JSON parser for the whole app, then the webhook route.
    app.use(expressLike.json());
    app.post("/parsed", verifyWebhook(stripeScheme, (event) => void seen.push(event), { logger: notRawLogger }));
    app.post("/parsed-receiver", handleWebhooks(fake, { logger: notRawLogger }));
    app.post("/json", (req: { body: unknown }, res: { json(b: unknown): void }) => res.json({ echoed: req.body }));
    app.use((err: Error, _req: unknown, res: { status(c: number): { json(b: unknown): void } }, _next: unknown) => {
      res.status(500).json({ caught: err.message });
    });

    server = createServer(app as unknown as Parameters<typeof createServer>[0]);
    base = await listen(server);
  });

  afterAll(() => close(server));

  it("runs the handler with the event for a Stripe delivery signed by the stripe SDK", async () => {
    const d = stripeDelivery("invoice.paid");
    const r = await post(`${base}/stripe`, d);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ received: d.id });
    const event = seen.find((e) => e.id === d.id)!;
    expect(event.type).toBe("invoice.paid");
    expect(event.scheme).toBe("stripe");
    expect(event.payload).toEqual(JSON.parse(d.body));
    expect(Buffer.from(event.rawBody as Uint8Array).toString()).toBe(d.body);
  });

  it("runs the handler for a GitHub delivery signed by @octokit/webhooks-methods", async () => {
    const d = await githubDelivery("push");
    const r = await post(`${base}/github`, d);
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ type: "push" });
    expect(seen.find((e) => e.id === d.id)?.type).toBe("push");
  });

  it("answers a tampered body 401 signature_mismatch without running the handler", async () => {
    for (const [path, d] of [["/stripe", stripeDelivery()], ["/github", await githubDelivery()]] as const) {
      const r = await post(`${base}${path}`, tampered(d));
      expectFailure(r, 401, "signature_mismatch");
      expect(r.text).not.toContain(d.headers["stripe-signature"] ?? d.headers["x-hub-signature-256"]);
      expect(seen.some((e) => e.id === d.id)).toBe(false);
    }
  });

  it("answers a stale timestamp 401 timestamp_too_old without running the handler", async () => {
    const d = stripeDelivery("invoice.paid", { timestamp: STALE() });
    expectFailure(await post(`${base}/stripe`, d), 401, "timestamp_too_old");
    expect(seen.some((e) => e.id === d.id)).toBe(false);
  });

  it("answers missing headers 400 missing_header without running the handler", async () => {
    const d = stripeDelivery();
    const r = await post(`${base}/stripe`, { body: d.body, headers: { "content-type": "application/json" } });
    expectFailure(r, 400, "missing_header");
    expect(r.json.message).toMatch(/stripe-signature/i);
    const g = await githubDelivery();
    const { "x-hub-signature-256": _omitted, ...unsigned } = g.headers;
    expectFailure(await post(`${base}/github`, { body: g.body, headers: unsigned }), 400, "missing_header");
    expect(seen.some((e) => e.id === d.id || e.id === g.id)).toBe(false);
  });

  it("answers a body parsed by express.json() 500 body_not_raw, says what to change, and logs it once", async () => {
    const first = await post(`${base}/parsed`, stripeDelivery());
    expectFailure(first, 500, "body_not_raw");
    const message = first.json.message as string;
    expect(message).toContain("hookguard/express");
    expect(message).toContain("already-parsed object");
    expect(message).toContain("before app.use(express.json())");
    expect(message).toContain('express.raw({ type: "*/*" })');
    expect(message).not.toMatch(/mismatch/i);
    expectFailure(await post(`${base}/parsed-receiver`, stripeDelivery()), 500, "body_not_raw");
    expect(fake.calls.length).toBe(0);
    expect(notRawLogger.warnings).toEqual([message]);
  });

  it("uses the Buffer express.raw() left in req.body", async () => {
    const d = stripeDelivery();
    expect((await post(`${base}/with-raw`, d)).json).toEqual({ received: d.id });
  });

  it("uses req.rawBody kept by an express.json({ verify }) callback", async () => {
    const d = stripeDelivery();
    expect((await post(`${base}/with-rawbody`, d)).json).toEqual({ received: d.id });
  });

  it("answers 413 payload_too_large for a Content-Length over maxBodyBytes", async () => {
    expectFailure(await postSized(`${base}/small`, 8 * 1024 * 1024, { "content-type": "application/json" }), 413, "payload_too_large");
    const r = await postSized(`${base}/small`, 4096, { "content-type": "application/json" });
    expectFailure(r, 413, "payload_too_large");
    expect(r.json.message).toContain("maxBodyBytes (1024 bytes)");
    expectFailure(await postSized(`${base}/fake-small`, 4096), 413, "payload_too_large");
    expect(fake.calls.length).toBe(0);
  });

  it("answers 413 for a chunked body without Content-Length that grows past the limit, without reading it all", async () => {
    const r = await postEndless(`${base}/small`);
    expectFailure(r, 413, "payload_too_large");
    // The body never ends: only a server that stopped reading could answer at all.
    expect(r.sentBytes).toBeLessThan(64 * 1024 * 1024);
    expectFailure(await postEndless(`${base}/fake-small`), 413, "payload_too_large");
  });

  it("applies maxBodyBytes to a Buffer a raw parser already read", async () => {
    expectFailure(await postSized(`${base}/with-raw-small`, 4096), 413, "payload_too_large");
  });

  it("passes a handler's error to next(), on Express 4 as on 5", async () => {
    const r = await post(`${base}/throws`, stripeDelivery());
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ caught: "handler exploded" });
  });

  it("passes an error from receiver.receive() to next()", async () => {
    expect((await post(`${base}/receiver-throws`, stripeDelivery())).json).toEqual({ caught: "receiver exploded" });
  });

  it("leaves JSON parsing of the app's other routes as it was", async () => {
    const r = await post(`${base}/json`, { body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    expect(r.json).toEqual({ echoed: { a: 1 } });
  });

  it("handleWebhooks writes the receiver's response as it is and hands it the raw request", async () => {
    const before = fake.calls.length;
    const d = stripeDelivery();
    expectOddResponse(await post(`${base}/fake?x=1`, d));
    const call = fake.calls[before]!;
    expect(bodyText(call)).toBe(d.body);
    expect(call.method).toBe("POST");
    expect(call.url).toBe(`${base}/fake?x=1`);
    expect((call.headers as Record<string, string>)["stripe-signature"]).toBe(d.headers["stripe-signature"]);
  });

  it("handleWebhooks runs a real receiver: processed once, then acknowledged as a duplicate", async () => {
    const d = stripeDelivery("invoice.paid");
    const first = await post(`${base}/receiver`, d);
    const second = await post(`${base}/receiver`, d);
    expect([first.status, first.json.status]).toEqual([200, "processed"]);
    expect([second.status, second.json.status]).toEqual([200, "duplicate"]);
    expect(received.filter((id) => id === d.id)).toHaveLength(1);
    expectFailure(await post(`${base}/receiver`, tampered(stripeDelivery())), 401, "signature_mismatch");
  });

  it("computes the public URL from baseUrl, publicUrl, or the mount path", async () => {
    const before = fake.calls.length;
    await post(`${base}/url-base?q=2`, stripeDelivery());
    await post(`${base}/url-fn`, stripeDelivery());
    await post(`${base}/mounted/inner?z=3`, stripeDelivery());
    expect(fake.calls.slice(before).map((c) => c.url)).toEqual([
      "https://hooks.example.com/url-base?q=2",
      "https://fn.example.com/url-fn",
      `${base}/mounted/inner?z=3`,
    ]);
  });
});

describe("Express types", () => {
  const scheme = stripe({ secret: STRIPE_SECRET });
  const receiver = createWebhookReceiver({ scheme });

  it("accepts handlers typed with @types/express (5) and @types/express4, annotated or not", async () => {
    const app5 = express();
    app5.post("/a", verifyWebhook(scheme, (event, req: Request, res: Response, next: NextFunction) => {
      if (!req.is("json")) return next();
      res.status(200).json({ id: event.id });
    }));
    app5.post("/b", verifyWebhook(scheme, (event, _req, res) => void res.status(200).json({ id: event.id })));
    app5.post("/c", handleWebhooks(receiver));

    const app4 = express4();
    app4.post("/a", verifyWebhook(scheme, (event, req: express4.Request, res: express4.Response, next: express4.NextFunction) => {
      if (!req.is("json")) return next();
      res.status(200).json({ id: event.id });
    }));
    app4.post("/b", verifyWebhook(scheme, (event, _req, res) => void res.status(200).json({ id: event.id })));
    app4.post("/c", handleWebhooks(receiver));
    app4.use(express4.Router().post("/d", handleWebhooks(receiver)));

    for (const app of [app5, app4] as unknown as Parameters<typeof createServer>[0][]) {
      const server = createServer(app);
      const url = await listen(server);
      for (const path of ["/a", "/b"]) {
        const d = stripeDelivery();
        expect((await post(`${url}${path}`, d)).json).toEqual({ id: d.id });
      }
      await close(server);
    }
  });

  it("rejects bad arguments at construction, naming what was wrong", () => {
    expect(() => verifyWebhook(undefined as never, () => {})).toThrow(/hookguard\/express: verifyWebhook\(\): the first argument must be a scheme/);
    expect(() => verifyWebhook(scheme, undefined as never)).toThrow(/handler function/);
    expect(() => verifyWebhook(scheme, () => {}, { maxBodyBytes: 0 })).toThrow(/`maxBodyBytes` must be a positive integer/);
    expect(() => handleWebhooks({} as never)).toThrow(/createWebhookReceiver/);
    expect(() => handleWebhooks(receiver, { baseUrl: "hooks.example.com" })).toThrow(/`baseUrl` must be an absolute http\(s\) URL/);
    expect(() => verifyWebhook(scheme, () => {}, { toleranceSeconds: -1 })).toThrow(/toleranceSeconds/);
  });
});
