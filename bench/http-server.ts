// One server of the HTTP bench, in its own process so the load generator (bench/http.ts)
// does not share its event loop. Listens on 127.0.0.1, an ephemeral port, and prints the
// port on stdout once listening.
//
//   node --import tsx bench/http-server.ts <node|express|fastify|hono> <bare|limit|stripe-sdk|hookguard>
//
// Every variant answers POST /webhooks/stripe:
//   bare        read the raw body, answer 200: no verification (the floor)
//   limit       hand-written node:crypto: createHmac with a KeyObject prepared once,
//               timingSafeEqual, JSON.parse (bench/raw.ts's rawStripe)
//   stripe-sdk  new Stripe("sk_test_x").webhooks.constructEvent
//   hookguard   handleWebhooks(createWebhookReceiver({ scheme: stripe({ secret }) })), default
//               memory store, a handler registered for the event type. The load generator
//               cycles through a pool of pre-signed events, so `idempotencyKey` makes each
//               request's key unique (event id + a sequence number): every request is a new
//               claim in the store, verified, dispatched and marked done, never a "duplicate".
// HOOKGUARD_HTTP_API=verify: the hookguard variant wraps the limit's answer in
// `verifyWebhook(stripe({ secret }), handler)` instead (no receiver, no store): the same job
// as the limit, verify and parse, through the adapter users wrap their route handlers with.
// hookguard comes from the bundle bench/http.ts builds the way tsup ships the package (its
// folder in HOOKGUARD_HTTP_BUNDLE), so the server runs the code users run; without that
// variable, from src/ through tsx (which wraps every closure in a naming helper: slower).
//
// A verified request is answered 200 `{"status":"processed"}` (what hookguard answers), a
// request that does not verify 401 (as hookguard does). On SIGTERM the server prints
// `processed=<n>` (the requests it verified: the hookguard handler's calls), `served=<n>`
// (every request), `cpu_us=<n>` (its CPU time, user + system, since the first request) and
// `gc_us=<n>` (time in garbage-collection pauses since then), `sys_us=<n>` (the kernel's
// share of cpu_us: sockets, syscalls), and exits. CPU time per
// request is the figure that survives a shared, noisy machine.
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { PerformanceObserver } from "node:perf_hooks";
import type { AddressInfo } from "node:net";
import { Duplex } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import Stripe from "stripe";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as ExpressAdapter from "../src/adapters/express";
import type * as FastifyAdapter from "../src/adapters/fastify";
import type * as FetchAdapter from "../src/adapters/fetch";
import type * as NodeAdapter from "../src/adapters/node";
import type * as Index from "../src/index";
import { STRIPE_SECRET, jsonEvent } from "./fixtures";
import { rawStripe } from "./raw";
import { BENCH_STORE_ENTRIES } from "./bench-store.mjs";
import { uniqueSuffix } from "./unique-suffix.mjs";

export const FRAMEWORKS = ["node", "express", "fastify", "hono"] as const;
// "limit-delay", run only when asked for (`--variants=limit,limit-delay,hookguard`): the raw
// limit plus a busy-wait of HTTP_LIMIT_DELAY_NS per request — a known cost in user space, to
// read what loopback makes of one (session 15: 1.4 µs of waiting cost 3.4 µs of CPU per
// request on Hono, 0.89× the limit's req/s).
export const VARIANTS = ["bare", "limit", "stripe-sdk", "hookguard", "limit-delay"] as const;
/** The servers a run has when none are named. */
export const DEFAULT_VARIANTS = ["bare", "limit", "stripe-sdk", "hookguard"] as const;
export type Framework = (typeof FRAMEWORKS)[number];
export type Variant = (typeof VARIANTS)[number];
/** The "limit-delay" server's busy-wait per request, in ns: HOOKGUARD_HTTP_DELAY_NS, 1,000 by default. */
export const HTTP_LIMIT_DELAY_NS = Number(process.env.HOOKGUARD_HTTP_DELAY_NS ?? 1000);
export const PATH = "/webhooks/stripe";
export const EVENT_TYPE = "invoice.paid";

const OK_BODY = JSON.stringify({ status: "processed" });
const BAD_BODY = JSON.stringify({ error: "signature_mismatch" });
const JSON_HEADERS = { "content-type": "application/json" } as const;
// Node http: with writeHead, Content-Length must be given or the answer goes out chunked.
const OK_HEADERS = { ...JSON_HEADERS, "content-length": String(Buffer.byteLength(OK_BODY)) } as const;
const BAD_HEADERS = { ...JSON_HEADERS, "content-length": String(Buffer.byteLength(BAD_BODY)) } as const;

/** Verifies a Stripe request; returns the parsed event, or undefined if it does not verify. */
type Check = (body: Buffer, signature: string | undefined) => unknown;

type Checked = Exclude<Variant, "bare" | "hookguard">;

function checker(variant: Checked): Check {
  if (variant === "limit") {
    const raw = rawStripe(STRIPE_SECRET);
    return (body, signature) => raw(body, { "stripe-signature": signature });
  }
  if (variant === "limit-delay") {
    if (!(HTTP_LIMIT_DELAY_NS >= 0 && HTTP_LIMIT_DELAY_NS < 1e9)) throw new Error("HOOKGUARD_HTTP_DELAY_NS must be a number of nanoseconds from 0 to 1e9");
    const limit = checker("limit");
    const delay = BigInt(Math.round(HTTP_LIMIT_DELAY_NS));
    return (body, signature) => {
      const start = process.hrtime.bigint();
      while (process.hrtime.bigint() - start < delay);
      return limit(body, signature);
    };
  }
  const client = new Stripe("sk_test_x");
  return (body, signature) => {
    if (signature === undefined) return undefined;
    try {
      return client.webhooks.constructEvent(body, signature, STRIPE_SECRET);
    } catch {
      return undefined;
    }
  };
}

let processed = 0;

interface Hookguard {
  readonly index: typeof Index;
  readonly node: typeof NodeAdapter;
  readonly express: typeof ExpressAdapter;
  readonly fastify: typeof FastifyAdapter;
  readonly fetch: typeof FetchAdapter;
}

async function loadHookguard(): Promise<Hookguard> {
  const dir = process.env.HOOKGUARD_HTTP_BUNDLE;
  if (dir === undefined || dir === "") {
    return { index: await import("../src/index"), node: await import("../src/adapters/node"), express: await import("../src/adapters/express"), fastify: await import("../src/adapters/fastify"), fetch: await import("../src/adapters/fetch") };
  }
  const from = async <T>(name: string) => (await import(pathToFileURL(join(dir, `${name}.mjs`)).href)) as T;
  const hg: Hookguard = { index: await from("index"), node: await from("node"), express: await from("express"), fastify: await from("fastify"), fetch: await from("fetch") };
  if (hg.index.createWebhookReceiver.toString().includes("__name")) throw new Error("the hookguard bundle was re-transformed on import");
  return hg;
}

// By default the hookguard server claims under the receiver's default key, the event's id, in
// a store of BENCH_STORE_ENTRIES keys, fewer than separate two requests of one event (see
// bench-store.mjs: over loopback 255 other claims at least, in memory 511).
// HOOKGUARD_HTTP_STORE=none: the hookguard server without the idempotency store (no key, so
// no claim, no completion), to split its cost from verification's and the receiver's.
// HOOKGUARD_HTTP_STORE=<n>: a memoryStore of at most n entries, each claim keyed
// `${event.id}/${n}` so that it is new whatever n (a store of n above the pool fills up to n
// and then evicts on every claim); HOOKGUARD_HTTP_STORE=100000 is the server of sessions 1-14.
function receiver({ index: { createWebhookReceiver, memoryStore, stripe } }: Hookguard) {
  let seq = 0;
  const scheme = stripe({ secret: STRIPE_SECRET });
  const setting = process.env.HOOKGUARD_HTTP_STORE;
  const r =
    setting === "none"
      ? createWebhookReceiver({ scheme, idempotencyKey: () => undefined, missingId: "process" })
      : setting !== undefined && Number(setting) > 0
        ? createWebhookReceiver({ scheme, store: memoryStore({ maxEntries: Number(setting) }), idempotencyKey: (event) => `${event.id}/${uniqueSuffix(seq++)}` })
        : createWebhookReceiver({ scheme, store: memoryStore({ maxEntries: BENCH_STORE_ENTRIES }) });
  r.on(EVENT_TYPE, () => {
    processed++;
  });
  return r;
}

function verified(check: Check | undefined, body: Buffer, signature: string | string[] | undefined | null): boolean {
  if (check === undefined) return true;
  if (check(body, typeof signature === "string" ? signature : undefined) === undefined) return false;
  processed++;
  return true;
}

/** Reads a Node request's body by hand: what the bare / limit / SDK servers on Node and Express do. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function nodeHandler(check: Check | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    readBody(req).then(
      (body) => {
        if (verified(check, body, req.headers["stripe-signature"])) res.writeHead(200, OK_HEADERS).end(OK_BODY);
        else res.writeHead(401, BAD_HEADERS).end(BAD_BODY);
      },
      () => res.destroy(),
    );
  };
}

/** The server's own CPU time (user + system) from its first request on, so start-up is left out. */
let cpuFrom: NodeJS.CpuUsage | undefined;
let served = 0;
// Time spent in the garbage collector's pauses from the first request on (µs): the part of
// a server's cost that follows from what it keeps alive (an idempotency store's keys), not
// from what it runs.
let gcUs = 0;
const gcObserver = new PerformanceObserver((list) => {
  if (cpuFrom === undefined) return;
  for (const entry of list.getEntries()) gcUs += entry.duration * 1000;
});
function count(server: Server): void {
  gcObserver.observe({ entryTypes: ["gc"] });
  server.on("request", () => {
    cpuFrom ??= process.cpuUsage();
    served++;
  });
}

/** A verified request's answer on Node and Express, as the limit writes it. */
function answerVerified(_event: unknown, _req: unknown, res: ServerResponse): void {
  processed++;
  res.writeHead(200, OK_HEADERS).end(OK_BODY);
}

/** hookguard's `verifyWebhook` around the limit's own answer (HOOKGUARD_HTTP_API=verify). */
async function verifyServer(framework: Framework, hg: Hookguard): Promise<Server> {
  const scheme = hg.index.stripe({ secret: STRIPE_SECRET });
  switch (framework) {
    case "node":
      return createServer(hg.node.verifyWebhook(scheme, answerVerified));
    case "express": {
      const app = express();
      app.post(PATH, hg.express.verifyWebhook(scheme, answerVerified));
      return createServer(app);
    }
    case "fastify": {
      const app = Fastify({ logger: false });
      await app.register(
        hg.fastify.verifyWebhook(scheme, async (_event, _request, reply) => (processed++, reply.code(200).headers(JSON_HEADERS).send(OK_BODY))),
        { path: PATH },
      );
      await app.ready();
      return app.server;
    }
    case "hono": {
      const app = new Hono();
      const webhook = hg.fetch.verifyWebhook(scheme, () => (processed++, new Response(OK_BODY, { status: 200, headers: JSON_HEADERS })));
      app.post(PATH, (c) => webhook(c.req.raw));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
  }
}

/** The server of one framework × variant, not yet listening. */
export async function createBenchServer(framework: Framework, variant: Variant): Promise<Server> {
  // The hand-written servers' check (none for the bare floor), or hookguard's bundle.
  const check = variant === "bare" || variant === "hookguard" ? undefined : checker(variant);
  const hg = variant === "hookguard" ? await loadHookguard() : undefined;
  if (hg && process.env.HOOKGUARD_HTTP_API === "verify") return verifyServer(framework, hg);
  switch (framework) {
    case "node":
      return createServer(hg ? hg.node.handleWebhooks(receiver(hg)) : nodeHandler(check));
    case "express": {
      const app = express();
      app.post(PATH, hg ? hg.express.handleWebhooks(receiver(hg)) : nodeHandler(check));
      return createServer(app);
    }
    case "fastify": {
      const app = Fastify({ logger: false });
      if (hg) {
        await app.register(hg.fastify.handleWebhooks(receiver(hg)), { path: PATH });
      } else {
        await app.register(async (scope) => {
          scope.removeAllContentTypeParsers();
          scope.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
          scope.post(PATH, async (request, reply) => {
            if (verified(check, request.body as Buffer, request.headers["stripe-signature"])) return reply.code(200).headers(JSON_HEADERS).send(OK_BODY);
            return reply.code(401).headers(JSON_HEADERS).send(BAD_BODY);
          });
        });
      }
      await app.ready();
      return app.server;
    }
    case "hono": {
      const app = new Hono();
      if (hg) {
        const webhooks = hg.fetch.handleWebhooks(receiver(hg));
        app.post(PATH, (c) => webhooks(c.req.raw));
      } else {
        app.post(PATH, async (c) => {
          const body = Buffer.from(await c.req.raw.arrayBuffer());
          if (verified(check, body, c.req.raw.headers.get("stripe-signature"))) return new Response(OK_BODY, { status: 200, headers: JSON_HEADERS });
          return new Response(BAD_BODY, { status: 401, headers: JSON_HEADERS });
        });
      }
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
  }
}

async function listen(server: Server): Promise<number> {
  count(server);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Two streams joined back to back: what one writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const side = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        other().push(chunk);
        done();
      },
      final(done) {
        other().push(null);
        done();
      },
    });
  sides.push(side(() => sides[1]!), side(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}

const MEMORY_CONNECTIONS = 4;
const MEMORY_POOL = 512;
const RESIGN_MS = 240_000;
const memoryPool: { request: Buffer; signedAt: number }[] = [];
let memorySigner: Stripe | undefined;

/**
 * The i-th in-memory request, as bytes on the wire: 1 KiB Stripe events from a pool of 512,
 * each signed with the Stripe SDK when first sent and again once its signature is four
 * minutes old by `Date.now` (signing every request would put an HMAC per request on the
 * client's side of the count). Not sooner: re-signing the pool falls inside a run by the
 * clock, so it landed in a slower server's count and not in a faster one's — 512
 * JSON.stringify + HMAC, ~20k instructions per request of Express's hookguard count in
 * session 13, none of them the server's. In a `--memory` run (the one valgrind counts) the
 * clock runs slowed ({@link slowClock}), so the pool is signed once.
 */
function memoryRequest(i: number): Buffer {
  const slot = i % MEMORY_POOL;
  const now = Date.now();
  const entry = memoryPool[slot];
  if (entry !== undefined && now - entry.signedAt < RESIGN_MS) return entry.request;
  memorySigner ??= new Stripe("sk_test_x");
  const body = jsonEvent(1024, { id: `evt_mem_${String(slot).padStart(8, "0")}`, object: "event", type: EVENT_TYPE }).toString("utf8");
  const signature = memorySigner.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
  const request = Buffer.from(`POST ${PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nstripe-signature: ${signature}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  memoryPool[slot] = { request, signedAt: now };
  return request;
}

/**
 * `--memory=N`: N requests from this process over in-memory connections (no sockets, no
 * kernel), 4 keep-alive connections in step, each awaiting its answer before the next
 * request: the server's JavaScript and HTTP parsing, counted exactly under callgrind. Every
 * answer must be a 200 `processed` (a 401 or a duplicate fails the run). The client's own
 * work — building each request, finding each answer's end — is the same for every variant.
 */
async function driveInMemory(server: Server, requests: number): Promise<void> {
  count(server);
  await exchangeInMemory(server, requests);
}

/** {@link driveInMemory}'s requests and answers, without counting CPU and GC (bench/http-wall.ts times them). */
export async function exchangeInMemory(server: Server, requests: number): Promise<void> {
  let sent = 0;
  let answered = 0;
  await Promise.all(
    Array.from({ length: MEMORY_CONNECTIONS }, async () => {
      const [client, end] = duplexPair();
      server.emit("connection", end);
      let pending: Buffer = Buffer.alloc(0);
      let waiting: ((text: string) => void) | undefined;
      client.on("data", (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const head = pending.indexOf("\r\n\r\n");
        if (head < 0 || waiting === undefined) return;
        const length = Number(/content-length: *(\d+)/i.exec(pending.subarray(0, head).toString("latin1"))?.[1] ?? Number.NaN);
        if (!(pending.length >= head + 4 + length)) return;
        const text = pending.subarray(0, head + 4 + length).toString("latin1");
        pending = pending.subarray(head + 4 + length);
        const resolve = waiting;
        waiting = undefined;
        resolve(text);
      });
      while (sent < requests) {
        const request = memoryRequest(sent++);
        const answer = new Promise<string>((resolve) => (waiting = resolve));
        client.write(request);
        const text = await answer;
        if (!text.startsWith("HTTP/1.1 200") || !text.endsWith(OK_BODY)) throw new Error(`request ${answered}: ${text.slice(0, 200)}`);
        answered++;
      }
      client.end();
    }),
  );
  if (answered !== requests) throw new Error(`${answered} of ${requests} requests answered`);
}

/** How much slower than real time the clock runs in a `--memory` run (see {@link slowClock}). */
const CLOCK_SLOWDOWN = 1000;

/**
 * Makes `Date.now` run {@link CLOCK_SLOWDOWN}× slower than real time, from now on, for the
 * whole process: client and server. Under valgrind a `--memory` run lasts minutes (24,000
 * Node requests: ~9 minutes), so by the clock the pool went stale and was re-signed inside
 * the counted window — 512 events built and signed, in one run's window and not another's,
 * by how long each took: hookguard's count moved by ~11k instructions a request between runs
 * of the same code (session 17), and every earlier whole-server count of a window over ~4
 * minutes carried some of it. With the clock slowed, the pool is signed once and stays
 * fresh, however long the run. Every variant reads the same wrapper (one `Date.now` a
 * request for the limit and for hookguard's receiver, whose memoryStore, made after this,
 * takes the wrapper as its `Date.now`).
 */
function slowClock(): void {
  const realNow = Date.now;
  const start = realNow();
  Date.now = () => start + Math.floor((realNow() - start) / CLOCK_SLOWDOWN);
}

function isOneOf<T extends string>(list: readonly T[], value: string | undefined): value is T {
  return value !== undefined && (list as readonly string[]).includes(value);
}

const [framework, variant] = process.argv.slice(2);
const memory = process.argv.find((a) => a.startsWith("--memory="))?.slice("--memory=".length);
// Run as a script: from source through tsx, or as the bundle bench/http-instructions.ts builds.
if (/http-server\.m?[jt]s$/.test(process.argv[1] ?? "")) {
  if (!isOneOf(FRAMEWORKS, framework) || !isOneOf(VARIANTS, variant) || (memory !== undefined && !(Number(memory) > 0))) {
    console.error(`usage: node --import tsx bench/http-server.ts <${FRAMEWORKS.join("|")}> <${VARIANTS.join("|")}> [--memory=<requests>]`);
    process.exit(2);
  }
  const report = () => {
    const cpu = process.cpuUsage(cpuFrom);
    return `processed=${processed} served=${served} cpu_us=${cpu.user + cpu.system} gc_us=${Math.round(gcUs)} sys_us=${cpu.system}\n`;
  };
  if (memory !== undefined) slowClock();
  const server = await createBenchServer(framework, variant);
  if (memory !== undefined) {
    await driveInMemory(server, Number(memory));
    // The collector's entries arrive after the turn they were made in.
    await new Promise((resolve) => setImmediate(resolve));
    process.stdout.write(report(), () => process.exit(0));
  } else {
    // The parent kills us with SIGTERM; also leave if it goes away without doing so.
    process.on("SIGTERM", () => process.stdout.write(report(), () => process.exit(0)));
    process.stdin.on("end", () => process.exit(0)).resume();
    process.stdout.write(`${await listen(server)}\n`);
  }
}
