// The caller's async context reaches the handler in every adapter: an AsyncLocalStorage
// store entered around the adapter (a request-scoped logger, a tracing span) is the one the
// handler reads, even when the body arrives after the request and the adapter continues
// from the stream's own events. Real servers on port 0; each body is sent in two writes
// with a pause between, so the adapter has to wait for it.
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookReceiver, stripe } from "../../src/index";
import * as expressAdapter from "../../src/adapters/express";
import * as fastifyAdapter from "../../src/adapters/fastify";
import * as fetchAdapter from "../../src/adapters/fetch";
import * as nodeAdapter from "../../src/adapters/node";
import { STRIPE_SECRET, close, listen, stripeDelivery } from "./adapters-helpers";

const context = new AsyncLocalStorage<string>();
/** Event id → the store its handler read (undefined when the context was lost). */
const seen = new Map<string, string | undefined>();

function receiver() {
  const r = createWebhookReceiver({ scheme: stripe({ secret: STRIPE_SECRET }) });
  r.on("invoice.paid", (event) => void seen.set(event.id!, context.getStore()));
  return r;
}
const scheme = stripe({ secret: STRIPE_SECRET });
const record = (id: string | undefined) => void seen.set(id!, context.getStore());

/** Posts a fresh Stripe delivery in two writes 30 ms apart; the request's context name is its id. */
async function postSplit(base: string, path: string): Promise<{ status: number; id: string }> {
  const { id, body, headers } = stripeDelivery();
  const bytes = Buffer.from(body);
  const half = bytes.length >> 1;
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "POST", headers: { ...headers, "content-length": bytes.length, "x-context": id } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.write(bytes.subarray(0, half));
    req.flushHeaders();
    setTimeout(() => req.end(bytes.subarray(half)), 30);
  });
  return { status, id };
}

/** Five concurrent split deliveries to `path`: each handler read its own request's store. */
async function expectOwnContext(base: string, path: string): Promise<void> {
  const results = await Promise.all(Array.from({ length: 5 }, () => postSplit(base, path)));
  for (const { status, id } of results) {
    expect(status).toBeLessThan(300);
    expect(seen.has(id), `${path}: handler ran for ${id}`).toBe(true);
    expect(seen.get(id), `${path}: the store the handler read`).toBe(id);
  }
}

describe("async context reaches the handler", () => {
  const servers: Server[] = [];
  let fastify: FastifyInstance;
  let hono: ServerType;
  const bases: Record<string, string> = {};

  beforeAll(async () => {
    const nodeHandle = nodeAdapter.handleWebhooks(receiver());
    const nodeVerify = nodeAdapter.verifyWebhook(scheme, (event, _req, res) => (record(event.id), void res.writeHead(200).end()));
    const nodeServer = createServer((req, res) => {
      const listener = req.url === "/handle" ? nodeHandle : nodeVerify;
      void context.run(String(req.headers["x-context"]), () => listener(req, res));
    });
    servers.push(nodeServer);
    bases.node = await listen(nodeServer);

    const app = express();
    app.use((req, _res, next) => context.run(String(req.headers["x-context"]), next));
    app.post("/handle", expressAdapter.handleWebhooks(receiver()));
    app.post("/verify", expressAdapter.verifyWebhook(scheme, (event, _req, res) => (record(event.id), void res.sendStatus(200))));
    const expressServer = createServer(app);
    servers.push(expressServer);
    bases.express = await listen(expressServer);

    fastify = Fastify();
    fastify.addHook("onRequest", (request, _reply, done) => context.run(String(request.headers["x-context"]), done));
    fastify.register(fastifyAdapter.handleWebhooks(receiver()), { path: "/handle" });
    fastify.register(
      fastifyAdapter.verifyWebhook(scheme, async (event) => record(event.id)),
      { path: "/verify" },
    );
    bases.fastify = await fastify.listen({ port: 0, host: "127.0.0.1" });

    const honoApp = new Hono();
    honoApp.use((c, next) => context.run(c.req.header("x-context")!, next));
    const fetchHandle = fetchAdapter.handleWebhooks(receiver());
    const fetchVerify = fetchAdapter.verifyWebhook(scheme, (event) => (record(event.id), new Response("ok")));
    honoApp.post("/handle", (c) => fetchHandle(c.req.raw));
    honoApp.post("/verify", (c) => fetchVerify(c.req.raw));
    await new Promise<void>((resolve) => {
      hono = serve({ fetch: honoApp.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
    });
    bases.fetch = `http://127.0.0.1:${(hono.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(servers.map(close));
    await fastify?.close();
    await close(hono as Server);
  });

  for (const framework of ["node", "express", "fastify", "fetch"]) {
    it(`${framework}: handleWebhooks runs the receiver's handler in the request's context`, async () => {
      await expectOwnContext(bases[framework]!, "/handle");
    });
    it(`${framework}: verifyWebhook runs the handler in the request's context`, async () => {
      await expectOwnContext(bases[framework]!, "/verify");
    });
  }
});
