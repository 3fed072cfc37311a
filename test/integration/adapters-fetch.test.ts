// hookguard/fetch: a real Hono app served by @hono/node-server on port 0, Hono's
// app.request(), and plain Web `Request`s, each with node:crypto and with Web Crypto forced.
// Deliveries are signed by the official Stripe and GitHub SDKs.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWebhookReceiver, github, stripe, type VerifiedWebhook } from "../../src/index";
import { handleWebhooks, verifyWebhook } from "../../src/adapters/fetch";
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
  type Delivery,
  type Reply,
} from "./adapters-helpers";

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function requestOf(d: Delivery, url = "https://api.example.com/webhooks/stripe"): Request {
  return new Request(url, { method: "POST", body: d.body, headers: d.headers });
}

describe.each([
  ["node:crypto", undefined],
  ["Web Crypto", "web"],
] as const)("hookguard/fetch with %s", (_name, cryptoImpl) => {
  const stripeScheme = stripe<Record<string, unknown>>({ secret: STRIPE_SECRET, crypto: cryptoImpl });
  const githubScheme = github<Record<string, unknown>>({ secret: GITHUB_SECRET, crypto: cryptoImpl });
  const seen: VerifiedWebhook<Record<string, unknown>>[] = [];
  const logger = recordingLogger();
  const fake = fakeReceiver(ODD_RESPONSE);
  const receiver = createWebhookReceiver({ scheme: stripeScheme });
  const processed: string[] = [];
  receiver.on("invoice.paid", (event) => void processed.push(event.id!));

  const stripeHook = verifyWebhook(stripeScheme, (event) => {
    seen.push(event);
    return Response.json({ received: event.id });
  });
  const githubHook = verifyWebhook(githubScheme, async (event, request) => {
    seen.push(event);
    return Response.json({ type: event.type, path: new URL(request.url).pathname }, { status: 202 });
  });
  const smallHook = verifyWebhook(stripeScheme, (event) => (seen.push(event), new Response("ok")), { maxBodyBytes: 1024 });
  const parsedHook = verifyWebhook(stripeScheme, (event) => (seen.push(event), new Response("ok")), { logger });
  const fakeHandler = handleWebhooks(fake);
  const smallFake = handleWebhooks(fake, { maxBodyBytes: 1024 });

  const app = new Hono();
  app.post("/stripe", (c) => stripeHook(c.req.raw));
  app.post("/github", (c) => githubHook(c.req.raw));
  app.post("/small", (c) => smallHook(c.req.raw));
  app.post("/fake", (c) => fakeHandler(c.req.raw));
  app.post("/fake-small", (c) => smallFake(c.req.raw));
  app.post("/receiver", (c) => handleWebhooks(receiver)(c.req.raw));
  // The classic mistake in Hono: reading the JSON before handing over the request.
  app.post("/parsed", async (c) => {
    await c.req.json();
    return parsedHook(c.req.raw);
  });
  app.post("/json", async (c) => c.json({ echoed: await c.req.json() }));

  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });

  afterAll(async () => {
    const s = server as unknown as Server;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  describe("in Hono served over real HTTP", () => {
    it("runs the handler for deliveries signed by the Stripe and GitHub SDKs", async () => {
      const d = stripeDelivery("invoice.paid");
      const r = await post(`${base}/stripe`, d);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ received: d.id });
      expect(seen.find((e) => e.id === d.id)?.payload).toEqual(JSON.parse(d.body));
      const g = await githubDelivery("release");
      const gr = await post(`${base}/github`, g);
      expect([gr.status, gr.json]).toEqual([202, { type: "release", path: "/github" }]);
      expect(seen.find((e) => e.id === g.id)?.type).toBe("release");
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

    it("answers a body read by c.req.json() 500 body_not_raw with what to change, logged once", async () => {
      const r = await post(`${base}/parsed`, stripeDelivery());
      expectFailure(r, 500, "body_not_raw");
      expect(r.json.message).toContain("hookguard/fetch");
      expect(r.json.message).toContain("c.req.raw");
      expect(r.json.message).toContain("request.clone()");
      await post(`${base}/parsed`, stripeDelivery());
      expect(logger.warnings).toEqual([r.json.message]);
    });

    it("answers 413 payload_too_large for a Content-Length over the limit and for an endless chunked body", async () => {
      const calls = fake.calls.length;
      expectFailure(await postSized(`${base}/small`, 2048), 413, "payload_too_large");
      expectFailure(await postSized(`${base}/small`, 8 * 1024 * 1024), 413, "payload_too_large");
      expectFailure(await postSized(`${base}/fake-small`, 2048), 413, "payload_too_large");
      expectFailure(await postEndless(`${base}/small`), 413, "payload_too_large");
      expectFailure(await postEndless(`${base}/fake-small`), 413, "payload_too_large");
      expect(fake.calls.length).toBe(calls);
    });

    it("handleWebhooks returns the receiver's response as it is, with the raw body and the URL", async () => {
      const d = stripeDelivery();
      expectOddResponse(await post(`${base}/fake?n=1`, d));
      const call = fake.calls.at(-1)!;
      expect(bodyText(call)).toBe(d.body);
      expect(call.url).toBe(`${base}/fake?n=1`);
      expect(call.method).toBe("POST");
    });

    it("handleWebhooks runs a real receiver: processed once, duplicate after", async () => {
      const d = stripeDelivery("invoice.paid");
      expect((await post(`${base}/receiver`, d)).json.status).toBe("processed");
      expect((await post(`${base}/receiver`, d)).json.status).toBe("duplicate");
      expect(processed.filter((id) => id === d.id)).toHaveLength(1);
    });

    it("leaves Hono's JSON routes alone", async () => {
      expect((await post(`${base}/json`, { body: '{"a":1}', headers: { "content-type": "application/json" } })).json).toEqual({ echoed: { a: 1 } });
    });
  });

  describe("through Hono's app.request()", () => {
    it("verifies and rejects", async () => {
      const d = stripeDelivery();
      expect(await (await app.request("/stripe", { method: "POST", body: d.body, headers: d.headers })).json()).toEqual({ received: d.id });
      const bad = await reply(await app.request("/stripe", { method: "POST", body: tampered(d).body, headers: d.headers }));
      expectFailure(bad, 401, "signature_mismatch");
    });
  });

  describe("with plain Requests", () => {
    it("verifies a Request and passes the runtime's extra arguments on", async () => {
      const d = stripeDelivery();
      const env = { SECRET_NAME: "env" };
      const hook = verifyWebhook(stripeScheme, (event, request, e: typeof env, ctx: { waitUntil(p: Promise<unknown>): void }) => {
        ctx.waitUntil(Promise.resolve());
        return Response.json({ id: event.id, url: request.url, env: e.SECRET_NAME });
      });
      const waitUntil = vi.fn();
      const r = await reply(await hook(requestOf(d), env, { waitUntil }));
      expect(r.json).toEqual({ id: d.id, url: "https://api.example.com/webhooks/stripe", env: "env" });
      expect(waitUntil).toHaveBeenCalledOnce();
    });

    it("answers bad Requests with the failure response", async () => {
      expectFailure(await reply(await stripeHook(requestOf(tampered(stripeDelivery())))), 401, "signature_mismatch");
      expectFailure(await reply(await stripeHook(requestOf(stripeDelivery("x", { timestamp: STALE() })))), 401, "timestamp_too_old");
      expectFailure(await reply(await stripeHook(new Request("https://x.test/", { method: "POST", body: "{}" }))), 400, "missing_header");
      expectFailure(await reply(await stripeHook(new Request("https://x.test/", { method: "POST" }))), 400, "missing_header");
    });

    it("answers a Request whose body was read, or is being read, 500 body_not_raw", async () => {
      const read = requestOf(stripeDelivery());
      await read.text();
      const r = await reply(await parsedHook(read));
      expectFailure(r, 500, "body_not_raw");
      expect(r.json.message).toContain("request.bodyUsed is true");
      const locked = requestOf(stripeDelivery());
      locked.body!.getReader();
      const l = await reply(await parsedHook(locked));
      expectFailure(l, 500, "body_not_raw");
      expect(l.json.message).toContain("locked");
    });

    it("cancels a streamed body the moment it passes maxBodyBytes", async () => {
      let pulled = 0;
      let cancelled = false;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(512));
        },
        cancel() {
          cancelled = true;
        },
      });
      const request = new Request("https://x.test/", { method: "POST", body, duplex: "half" } as RequestInit & { duplex: "half" });
      expectFailure(await reply(await smallHook(request)), 413, "payload_too_large");
      await vi.waitFor(() => expect(cancelled).toBe(true));
      expect(pulled).toBeLessThan(10);
    });

    it("rejects, not body_not_raw, when a body with a declared length fails mid-read", async () => {
      const failing = () =>
        new Request("https://x.test/", {
          method: "POST",
          headers: { "content-length": "100" },
          body: new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.error(new Error("client went away"));
            },
          }),
          duplex: "half",
        } as RequestInit & { duplex: "half" });
      await expect(parsedHook(failing())).rejects.toThrow("client went away");
      await expect(handleWebhooks(fake)(failing())).rejects.toThrow("client went away");
    });

    it("counts a body whose Content-Length is not digits as undeclared", async () => {
      // Each would be over smallHook's 1,024 bytes read as a number; the body itself is not.
      for (const declared of ["1e4", "0x1000", "2048.5"]) {
        const d = stripeDelivery();
        const request = new Request("https://x.test/", { method: "POST", body: d.body, headers: { ...d.headers, "content-length": declared } });
        const r = await reply(await smallHook(request));
        expect({ declared, status: r.status, text: r.text }).toEqual({ declared, status: 200, text: "ok" });
      }
      const big = stripeDelivery();
      const padded = { ...big, body: big.body.padEnd(2048, " ") };
      const request = new Request("https://x.test/", { method: "POST", body: padded.body, headers: { ...padded.headers, "content-length": "1e1" } });
      expectFailure(await reply(await smallHook(request)), 413, "payload_too_large");
    });

    it("joins a body that arrives in many chunks", async () => {
      const d = stripeDelivery();
      const bytes = new TextEncoder().encode(d.body);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
          controller.close();
        },
      });
      const request = new Request("https://x.test/", { method: "POST", body, headers: d.headers, duplex: "half" } as RequestInit & { duplex: "half" });
      expect((await reply(await stripeHook(request))).json).toEqual({ received: d.id });
    });

    it("accepts a body of exactly maxBodyBytes", async () => {
      const d = stripeDelivery();
      const r = await reply(await smallHook(requestOf({ ...d, body: d.body.padEnd(1024, " ") })));
      // Read whole and checked: the padding fails the signature, not the size.
      expectFailure(r, 401, "signature_mismatch");
    });

    it("passes request.url, baseUrl or publicUrl as the URL", async () => {
      const d = stripeDelivery();
      await handleWebhooks(fake)(requestOf(d, "https://internal:8080/hooks/a?x=1"));
      await handleWebhooks(fake, { baseUrl: "https://public.example.com/base" })(requestOf(d, "http://internal:8080/hooks/a?x=1"));
      await handleWebhooks(fake, { publicUrl: (r) => r.headers.get("x-original-url") ?? undefined })(
        new Request("http://internal/", { method: "POST", body: d.body, headers: { ...d.headers, "x-original-url": "https://orig.example.com/p" } }),
      );
      expect(fake.calls.slice(-3).map((c) => c.url)).toEqual(["https://internal:8080/hooks/a?x=1", "https://public.example.com/base/hooks/a?x=1", "https://orig.example.com/p"]);
    });

    it("rejects when the handler throws, for the framework to handle", async () => {
      const hook = verifyWebhook(stripeScheme, () => {
        throw new Error("handler exploded");
      });
      await expect(hook(requestOf(stripeDelivery()))).rejects.toThrow("handler exploded");
    });

    it("answers with a promise every time, and rejects (never throws) when reading the request or the receiver fails", async () => {
      const read = requestOf(stripeDelivery());
      await read.text();
      const early = handleWebhooks(fake)(read);
      expect(early).toBeInstanceOf(Promise);
      expectFailure(await reply(await early), 500, "body_not_raw");

      const exploding = { receive: () => { throw new Error("receive exploded"); } };
      let pending: Promise<Response> | undefined;
      expect(() => (pending = handleWebhooks(exploding)(requestOf(stripeDelivery())))).not.toThrow();
      await expect(pending).rejects.toThrow("receive exploded");

      const noHeaders = requestOf(stripeDelivery());
      Object.defineProperty(noHeaders, "headers", { get: () => { throw new Error("headers exploded"); } });
      expect(() => (pending = handleWebhooks(fake)(noHeaders))).not.toThrow();
      await expect(pending).rejects.toThrow("headers exploded");
      expect(() => (pending = stripeHook(noHeaders))).not.toThrow();
      await expect(pending).rejects.toThrow("headers exploded");
    });

    it(`runs ${cryptoImpl === "web" ? "on Web Crypto (crypto.subtle)" : "without Web Crypto"}`, async () => {
      const sign = vi.spyOn(globalThis.crypto.subtle, "sign");
      try {
        const d = stripeDelivery();
        expect((await reply(await stripeHook(requestOf(d)))).json).toEqual({ received: d.id });
        expect(sign.mock.calls.length > 0).toBe(cryptoImpl === "web");
      } finally {
        sign.mockRestore();
      }
    });
  });
});

describe("hookguard/fetch handshakes and null-body statuses", () => {
  it("writes a 204 from a receiver without a body", async () => {
    const handler = handleWebhooks(fakeReceiver({ status: 204, headers: {}, body: "" }));
    const response = await handler(new Request("https://x.test/", { method: "POST", body: "{}" }));
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
  });
});
