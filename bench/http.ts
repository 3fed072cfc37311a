// HTTP bench: whole requests over loopback, for each framework (Node http, Express 5,
// Fastify, Hono on @hono/node-server) and four servers each — bare (read the body, answer
// 200: the floor), the raw limit (hand-written node:crypto), the Stripe SDK's
// constructEvent, and hookguard's handleWebhooks with the default memory store. Each
// server runs in its own process (bench/http-server.ts); autocannon drives it from this one.
//
// Requests: before the warm-up and again before the measured run, 256 1 KiB Stripe events
// per connection, each with its own id, are signed with stripe.webhooks.generateTestHeaderString
// (fresh timestamps), and each autocannon connection cycles through its own 256 with the
// requests prebuilt (signing or building per request in setupRequest made the load
// generator, not the server, the bottleneck on a 2-core machine). An event thus comes back
// only after 255 other claims, and the hookguard server's memory store holds 128 keys
// (BENCH_STORE_ENTRIES in bench/bench-store.mjs), so under the receiver's default key, the
// event's id, every request is verified, claimed, dispatched and marked done, never
// answered "duplicate" (until session 15: one pool of 4,096 that all connections went
// through in step, the default store, and claims keyed by id + a sequence number). All
// four servers of a framework get the same requests. Each server counts the requests it
// verified — a duplicate is not — and prints the count when stopped: the run fails if it
// is short of the 2xx answers autocannon saw.
//
//   npx tsx bench/http.ts                      the full run (about 2 minutes)
//   npx tsx bench/http.ts --only=node,hono     some frameworks
//   npx tsx bench/http.ts --duration=2         shorter runs (a smoke run)
//   npx tsx bench/http.ts --warmup=4           a longer warm-up: the servers' JIT done before the measured run
//   npx tsx bench/http.ts --rounds=3           three interleaved rounds, medians reported
//   npx tsx bench/http.ts --pin                the server pinned to CPU 0, the load generator to
//                                              CPU 1 (taskset): steadier CPU per request
//   npx tsx bench/http.ts --variants=limit,hookguard --cpu-prof=/tmp/prof
//                                              some servers, each writing a V8 CPU profile
//   npx tsx bench/http.ts --only=node --variants=limit,hookguard --perf=/tmp/perf
//                                              each server sampled by Linux perf (cpu-clock),
//                                              V8's functions named: compare with
//                                              `npx tsx bench/perf-diff.ts`; with --perf-callgraph,
//                                              call chains too (`perf report -G`: who calls a
//                                              kernel function, e.g. the send path's wake-up)
//   HOOKGUARD_HTTP_STORE=none npx tsx bench/http.ts --only=node --variants=limit,hookguard --rounds=8 --duration=3
//                                              the hookguard server without its idempotency
//                                              store (to split its cost off); with two or more
//                                              rounds the report adds hookguard ÷ limit round
//                                              by round (odd rounds run the servers in reverse)
import type { Buffer } from "node:buffer";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// @ts-expect-error -- autocannon ships no types
import autocannonUntyped from "autocannon";
import Stripe from "stripe";
import { build } from "tsup";
import { bundling } from "../tsup.config";
import { BENCH_STORE_ENTRIES } from "./bench-store.mjs";
import { STRIPE_SECRET, jsonEvent } from "./fixtures";
import { DEFAULT_VARIANTS, EVENT_TYPE, FRAMEWORKS, HTTP_LIMIT_DELAY_NS, PATH, VARIANTS, type Framework, type Variant } from "./http-server";

export interface HttpBenchOptions {
  /** Frameworks to run; all four by default. */
  readonly frameworks?: readonly Framework[];
  /** Concurrent connections. @default 10 */
  readonly connections?: number;
  /** Measured seconds per server. @default 5 */
  readonly durationS?: number;
  /** Warm-up seconds per server, not measured. @default 1 */
  readonly warmupS?: number;
  /** Called after each server's run, e.g. to print progress. */
  readonly onResult?: (row: HttpBenchRow) => void;
  /** Variants to run; all four by default. */
  readonly variants?: readonly Variant[];
  /** Write a V8 CPU profile of each server process into this folder (`node --cpu-prof`). */
  readonly cpuProfDir?: string;
  /**
   * Sample each server process with Linux `perf record -e cpu-clock` (a timer, so it works
   * on virtual machines without hardware counters) into this folder, one
   * `<framework>-<variant>-<round>.data` each; the servers run with `--perf-basic-prof` so
   * that V8's compiled functions have names. `perf report -n` then splits the time by
   * function, native and JavaScript alike.
   */
  readonly perfDir?: string;
  /** With `perfDir`: record call chains too (`perf record -g`). */
  readonly perfCallGraph?: boolean;
  /**
   * Rounds: each round runs every framework × variant once, in turn, and each figure
   * reported is the median over the rounds. On a shared machine a burst of other work
   * lands on one run; interleaved rounds keep it from deciding a ratio. @default 1
   */
  readonly rounds?: number;
  /**
   * Pin the server to CPU 0 and this process (the load generator) to CPU 1 (`taskset`).
   * Unpinned, the scheduler moves both across the two cores, and a server's CPU per request
   * moves with where they land; pinned, two runs of one server agreed within 2 % (session
   * 12), though rounds still move with whatever else the machine runs. Needs two CPUs and
   * `taskset`. @default false
   */
  readonly pin?: boolean;
}

export interface HttpBenchRow {
  readonly framework: Framework;
  readonly variant: Variant;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Non-2xx answers, connection errors and timeouts. */
  readonly failures: number;
  /** Requests the server verified (warm-up and checks included); `undefined` for bare. */
  readonly verified: number | undefined;
  /**
   * The server process's CPU time (user + system) per request it served, warm-up included,
   * in µs: unlike req/s, it hardly moves when other processes share the machine.
   */
  readonly cpuUsPerRequest: number | undefined;
  /** Of which in the garbage collector's pauses, µs per request served. */
  readonly gcUsPerRequest: number | undefined;
  /** Of which in the kernel (sockets, syscalls), µs per request served. */
  readonly sysUsPerRequest: number | undefined;
  /** req/s in each round, in order (one entry for a single run). */
  readonly roundReqPerSec: readonly number[];
  /** CPU µs per request in each round, in order (`NaN` where the server reported none). */
  readonly roundCpuUs: readonly number[];
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  requests: AutocannonRequest[];
  /** Called with each connection's client as autocannon makes it. */
  setupClient?: (client: { setRequests(requests: AutocannonRequest[]): void }) => void;
}
type AutocannonRequest = { method: string; path: string; headers: Record<string, string>; body: string };
const autocannon = autocannonUntyped as (opts: AutocannonOptions) => Promise<AutocannonResult>;

const SERVER = fileURLToPath(new URL("./http-server.ts", import.meta.url));
const BODY_BYTES = 1024;
/**
 * Events per connection in each of the two runs (warm-up, measured): every connection cycles
 * through its own, so an event comes back only after 255 other claims, more than the hookguard
 * server's store holds (BENCH_STORE_ENTRIES): each request is a new claim under the default key.
 */
const PER_CONNECTION = 256;
// An event that came back while the store still held its key would be answered "duplicate"
// unhandled: the run's verified count would then fall short of its 2xx and fail it late.
if (PER_CONNECTION <= BENCH_STORE_ENTRIES) throw new Error(`each connection's ${PER_CONNECTION} events must outnumber the store's ${BENCH_STORE_ENTRIES} keys`);
const stripeClient = new Stripe("sk_test_x");

// A 1 KiB event whose id is a fixed-width placeholder, replaced per request.
const ID_DIGITS = 12;
const PLACEHOLDER = `evt_http${"#".repeat(ID_DIGITS)}`;
const template = jsonEvent(BODY_BYTES, { id: PLACEHOLDER, object: "event", type: EVENT_TYPE, api_version: "2024-06-20", created: 1_700_000_000 }).toString("utf8");
const at = template.indexOf(PLACEHOLDER);
const prefix = template.slice(0, at + "evt_http".length);
const suffix = template.slice(at + PLACEHOLDER.length);
let nextId = 0;

/** A fresh body with an id never sent before, and its headers signed now. */
function signedRequest(secret = STRIPE_SECRET): { body: string; headers: Record<string, string> } {
  const body = `${prefix}${String(nextId++).padStart(ID_DIGITS, "0")}${suffix}`;
  const signature = stripeClient.webhooks.generateTestHeaderString({ payload: body, secret });
  return { body, headers: { "content-type": "application/json", "stripe-signature": signature } };
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the server printed on stdout. */
  readonly output: () => string;
  /** Settles when the server's `perf record` (if any) has written its file. */
  readonly perfDone: Promise<void>;
}

/**
 * Bundles hookguard's entry points with tsup.config.ts's own `bundling` settings (ES2022,
 * neutral, split, no keepNames) into a temporary folder, as .mjs so tsx leaves them alone on import.
 */
export async function bundleHookguard(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "hookguard-http-bench-"));
  const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
  await build({
    entry: { index: src("index.ts"), node: src("adapters/node.ts"), express: src("adapters/express.ts"), fastify: src("adapters/fastify.ts"), fetch: src("adapters/fetch.ts") },
    ...bundling,
    external: [...bundling.external],
    format: ["esm"],
    outDir,
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
    config: false,
    outExtension: () => ({ js: ".mjs" }),
  });
  return outDir;
}

/** Pins this process, every thread of it, to CPU 1: the load generator's core when `pin` is set. */
function pinLoadGenerator(): void {
  if (availableParallelism() < 2) throw new Error("--pin needs two CPUs: the server on CPU 0, the load generator on CPU 1");
  try {
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  } catch (error) {
    throw new Error(`--pin: could not run taskset (${(error as Error).message}); install util-linux`, { cause: error });
  }
}

async function startServer(framework: Framework, variant: Variant, bundle: string, cpuProfDir: string | undefined, perfFile: string | undefined, pin: boolean, callGraph = false): Promise<Server> {
  // One folder per server: tsx's loader thread writes a profile of its own next to the main thread's.
  const prof = cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${join(cpuProfDir, `${framework}-${variant}`)}`];
  if (perfFile !== undefined) prof.push("--perf-basic-prof");
  const node = [process.execPath, ...prof, "--import", "tsx", SERVER, framework, variant];
  // taskset execs node in its own process: the child's pid is the server's, for perf and for stopping it.
  const [command, ...args] = pin ? ["taskset", "-c", "0", ...node] : node;
  const child = spawn(command!, args, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, HOOKGUARD_HTTP_BUNDLE: bundle } });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${framework}/${variant}: the server printed no port within 20 s`)), 20_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = out.split("\n")[0]!;
      if (out.includes("\n")) {
        clearTimeout(timer);
        const n = Number(line);
        if (Number.isInteger(n) && n > 0) resolve(n);
        else reject(new Error(`${framework}/${variant}: unexpected server output ${JSON.stringify(line)}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${framework}/${variant}: the server exited (${code}) before listening`));
    });
  });
  // perf attaches once the server listens (start-up left out) and stops when it exits.
  const perf = perfFile === undefined ? undefined : spawn("perf", ["record", ...(callGraph ? ["-g"] : []), "-q", "-e", "cpu-clock", "-F", "2999", "-p", String(child.pid), "-o", perfFile], { stdio: "ignore" });
  // A machine without perf fails the run with that, not with an unhandled "error" event.
  const perfDone =
    perf === undefined
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          perf.once("error", (error) => reject(new Error(`--perf: could not run perf (${error.message}); install linux-perf`)));
          perf.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`--perf: perf record exited with ${code}`))));
        });
  // perf needs a moment to attach; the warm-up that follows is sampled too.
  if (perf !== undefined) await Promise.race([perfDone, new Promise((resolve) => setTimeout(resolve, 300))]);
  return { child, port, output: () => out, perfDone };
}

interface ServerReport {
  /** Requests it verified. */
  readonly verified: number | undefined;
  /** CPU µs per request served. */
  readonly cpuUsPerRequest: number | undefined;
  /** GC pause µs per request served. */
  readonly gcUsPerRequest: number | undefined;
  /** Kernel CPU µs per request served. */
  readonly sysUsPerRequest: number | undefined;
  /** Requests served, warm-up and checks included. */
  readonly served: number | undefined;
}

/** Stops the server; resolves to what it reported on its way out. */
async function stopServer({ child, output }: Server): Promise<ServerReport> {
  if (child.exitCode === null && child.signalCode === null) {
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await closed;
    clearTimeout(timer);
  }
  const m = /processed=(\d+) served=(\d+) cpu_us=(\d+) gc_us=(\d+)(?: sys_us=(\d+))?/.exec(output());
  if (!m) return { verified: undefined, cpuUsPerRequest: undefined, gcUsPerRequest: undefined, sysUsPerRequest: undefined, served: undefined };
  const served = Number(m[2]);
  const per = (us: string | undefined) => (served > 0 && us !== undefined ? Number(us) / served : undefined);
  return { verified: Number(m[1]), cpuUsPerRequest: per(m[3]), gcUsPerRequest: per(m[4]), sysUsPerRequest: per(m[5]), served };
}

async function post(port: number, request: { body: string; headers: Record<string, string> }): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: "POST", body: request.body, headers: request.headers });
  return { status: res.status, text: await res.text() };
}

/** Proves the server does the work before it is timed: a valid request is processed, a forged one refused. */
async function check(framework: Framework, variant: Variant, port: number): Promise<void> {
  const label = `${framework}/${variant}`;
  const valid = signedRequest();
  const first = await post(port, valid);
  if (first.status !== 200 || !first.text.includes('"processed"')) throw new Error(`${label}: a valid request got ${first.status} ${first.text}`);
  if (variant === "bare") return;
  const forged = await post(port, signedRequest("whsec_not_the_secret"));
  if (forged.status !== 401) throw new Error(`${label}: a forged request got ${forged.status} ${forged.text}`);
}

/** For each connection, its own PER_CONNECTION events, signed now. */
function pool(connections: number): AutocannonRequest[][] {
  return Array.from({ length: connections }, () => Array.from({ length: PER_CONNECTION }, () => ({ method: "POST", path: PATH, ...signedRequest() })));
}

/** autocannon with each connection on its own events (autocannon's `requests` would send every connection through the same list, in step). */
async function load(port: number, durationS: number, shares: AutocannonRequest[][]): Promise<AutocannonResult> {
  let next = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: shares.length,
    duration: durationS,
    pipelining: 1,
    requests: shares[0]!,
    setupClient: (client) => client.setRequests(shares[next++ % shares.length]!),
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One row from the rounds of one server: medians of the rates and latencies, sums of the counts. */
function combine(runs: readonly HttpBenchRow[]): HttpBenchRow {
  const first = runs[0]!;
  const cpu = runs.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== undefined);
  const gc = runs.map((r) => r.gcUsPerRequest).filter((c): c is number => c !== undefined);
  const sys = runs.map((r) => r.sysUsPerRequest).filter((c): c is number => c !== undefined);
  return {
    framework: first.framework,
    variant: first.variant,
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    verified: first.verified === undefined ? undefined : runs.reduce((n, r) => n + (r.verified ?? 0), 0),
    cpuUsPerRequest: cpu.length === runs.length ? median(cpu) : undefined,
    gcUsPerRequest: gc.length === runs.length ? median(gc) : undefined,
    sysUsPerRequest: sys.length === runs.length ? median(sys) : undefined,
    roundReqPerSec: runs.map((r) => r.reqPerSec),
    roundCpuUs: runs.map((r) => r.roundCpuUs[0]!),
  };
}

/** Runs every framework × variant (`rounds` times, interleaved) and reports each server's medians. */
export async function benchHttp(options: HttpBenchOptions = {}): Promise<HttpBenchRow[]> {
  const { frameworks = FRAMEWORKS, variants = DEFAULT_VARIANTS, rounds = 1 } = options;
  if (options.pin) pinLoadGenerator();
  const runs = new Map<string, HttpBenchRow[]>();
  for (let round = 0; round < rounds; round++) {
    // Every other round runs the servers in the reverse order, so neither is always first.
    for (const row of await benchRound({ ...options, variants: round % 2 === 1 ? [...variants].reverse() : variants }, round)) {
      const key = `${row.framework}/${row.variant}`;
      runs.set(key, [...(runs.get(key) ?? []), row]);
    }
  }
  const rows: HttpBenchRow[] = [];
  for (const framework of frameworks) for (const variant of variants) rows.push(combine(runs.get(`${framework}/${variant}`)!));
  return rows;
}

/** Starts one server, checks it, loads it (warm-up, then the measured run), stops it: its row. */
async function runServer(framework: Framework, variant: Variant, options: HttpBenchOptions, bundle: string, round: number): Promise<HttpBenchRow> {
  const { connections = 10, durationS = 5, warmupS = 1, cpuProfDir, perfDir } = options;
  // Each connection may hold a lease; the rest of the store must still turn over.
  if (!(Number.isInteger(connections) && connections > 0 && connections <= BENCH_STORE_ENTRIES / 2)) throw new Error(`connections must be a whole number from 1 to ${BENCH_STORE_ENTRIES / 2}`);
  const perfFile = (ext: string) => (perfDir === undefined ? undefined : join(perfDir, `${framework}-${variant}-${round}.${ext}`));
  const server = await startServer(framework, variant, bundle, cpuProfDir, perfFile("data"), options.pin ?? false, options.perfCallGraph ?? false);
  let warm: AutocannonResult;
  let r: AutocannonResult;
  let report: ServerReport;
  try {
    await check(framework, variant, server.port);
    // Two sets of events, so that the measured run sends none the warm-up sent last.
    warm = await load(server.port, warmupS, pool(connections));
    r = await load(server.port, durationS, pool(connections));
  } finally {
    report = await stopServer(server);
    await server.perfDone;
    // Beside the samples, the requests they were taken over: bench/perf-diff.ts divides by it.
    const meta = perfFile("json");
    if (meta !== undefined) writeFileSync(meta, JSON.stringify({ served: report.served }));
  }
  const { verified, cpuUsPerRequest, gcUsPerRequest, sysUsPerRequest } = report;
  const ok2xx = warm.requests.total - warm.non2xx + r.requests.total - r.non2xx + 1;
  if (variant !== "bare" && (verified === undefined || verified < ok2xx)) {
    throw new Error(`${framework}/${variant}: the server verified ${verified} requests but answered ${ok2xx} with 2xx`);
  }
  return {
    framework,
    variant,
    reqPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    failures: r.non2xx + r.errors + r.timeouts,
    verified: variant === "bare" ? undefined : verified,
    cpuUsPerRequest,
    gcUsPerRequest,
    sysUsPerRequest,
    roundReqPerSec: [r.requests.average],
    roundCpuUs: [cpuUsPerRequest ?? Number.NaN],
  };
}

/** One round: every framework × variant, one server process at a time, each killed after its run. */
async function benchRound(options: HttpBenchOptions, round = 0): Promise<HttpBenchRow[]> {
  const { frameworks = FRAMEWORKS, variants = DEFAULT_VARIANTS, onResult } = options;
  const rows: HttpBenchRow[] = [];
  const bundle = await bundleHookguard();
  try {
    for (const framework of frameworks) {
      for (const variant of variants) {
        const row = await runServer(framework, variant, options, bundle, round);
        rows.push(row);
        onResult?.(row);
      }
    }
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  return rows;
}

const FRAMEWORK_TITLE: Record<Framework, string> = { node: "Node http", express: "Express 5", fastify: "Fastify 5", hono: "Hono (node-server)" };
const VARIANT_TITLE: Record<Variant, string> = {
  bare: "bare (no verification)",
  limit: "raw limit (node:crypto by hand)",
  "stripe-sdk": "stripe constructEvent",
  hookguard: "hookguard handleWebhooks",
  "limit-delay": `raw limit + ${fmt(HTTP_LIMIT_DELAY_NS)} ns busy-wait`,
};
/** hookguard's req/s must reach this fraction of the raw limit's, in every framework. */
export const HTTP_TARGET = 0.95;

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `a` ÷ `b` in requests per second, round by round (rounds run each server right after the other). */
function reqPerSecRatios(a: HttpBenchRow, b: HttpBenchRow): number[] {
  return a.roundReqPerSec.map((n, i) => n / b.roundReqPerSec[i]!);
}

/** Ratios of each round, then their median: "0.98, 1.02, 0.97; median 0.98×". */
function roundByRound(ratios: readonly number[]): string {
  return `${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${median(ratios).toFixed(2)}×`;
}

/** The results as a Markdown table, then the ratios and targets per framework. */
export function formatHttpBench(rows: readonly HttpBenchRow[]): string {
  const head = ["framework", "server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "of which GC", "requests", "failures"];
  const body = rows.map((r) => [
    FRAMEWORK_TITLE[r.framework],
    VARIANT_TITLE[r.variant],
    fmt(r.reqPerSec),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    r.cpuUsPerRequest === undefined ? "?" : fmt(r.cpuUsPerRequest, 1),
    r.gcUsPerRequest === undefined ? "?" : fmt(r.gcUsPerRequest, 1),
    fmt(r.requests),
    fmt(r.failures),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = [false, false, true, true, true, true, true, true, true];
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${"-".repeat(w + 1)}:` : `:${"-".repeat(w + 1)}`)).join("|")}|`;
  const out = [line(head), rule, ...body.map(line), ""];
  out.push(
    "| framework | hookguard ÷ raw limit (req/s) | hookguard ÷ stripe constructEvent (req/s) | hookguard ÷ bare (req/s) | raw limit ÷ hookguard (server CPU per request) |",
    "|:--|--:|--:|--:|--:|",
  );
  const targets: string[] = [];
  const rowOf = (framework: Framework, variant: Variant) => rows.find((r) => r.framework === framework && r.variant === variant);
  for (const framework of FRAMEWORKS) {
    const of = (v: Variant) => rowOf(framework, v);
    const hg = of("hookguard");
    const limit = of("limit");
    const sdk = of("stripe-sdk");
    const bare = of("bare");
    // A run of some variants (`--variants=limit,hookguard`) gives the ratios it can.
    if (!hg || !limit) continue;
    const vsLimit = hg.reqPerSec / limit.reqPerSec;
    const vsSdk = sdk === undefined ? undefined : hg.reqPerSec / sdk.reqPerSec;
    const cpu = hg.cpuUsPerRequest !== undefined && limit.cpuUsPerRequest !== undefined ? `${(limit.cpuUsPerRequest / hg.cpuUsPerRequest).toFixed(2)}×` : "?";
    out.push(`| ${FRAMEWORK_TITLE[framework]} | ${vsLimit.toFixed(2)}× | ${vsSdk === undefined ? "—" : `${vsSdk.toFixed(2)}×`} | ${bare === undefined ? "—" : `${(hg.reqPerSec / bare.reqPerSec).toFixed(2)}×`} | ${cpu} |`);
    targets.push(`- ${vsLimit >= HTTP_TARGET ? "met" : "MISSED"}: ${FRAMEWORK_TITLE[framework]} hookguard at ${vsLimit.toFixed(2)}× the raw limit's req/s (target ≥ ${HTTP_TARGET}×)`);
    if (vsSdk !== undefined) targets.push(`- ${vsSdk > 1 ? "met" : "MISSED"}: ${FRAMEWORK_TITLE[framework]} hookguard at ${vsSdk.toFixed(2)}× stripe constructEvent's req/s (target > 1×)`);
    const failed = [bare, limit, sdk, hg].filter((r): r is HttpBenchRow => r !== undefined && r.failures > 0);
    if (failed.length > 0) targets.push(`- WARNING: ${FRAMEWORK_TITLE[framework]}: ${failed.map((r) => `${r.variant} had ${r.failures} failed requests`).join(", ")}`);
  }
  // Rounds run each server right after the other: a burst of other work on a shared machine
  // lands on both servers of a round alike, so the ratio within each round is steadier
  // than the ratio of two medians.
  for (const framework of FRAMEWORKS) {
    const hg = rowOf(framework, "hookguard");
    const limit = rowOf(framework, "limit");
    if (!hg || !limit || hg.roundReqPerSec.length < 2) continue;
    targets.push(`- ${FRAMEWORK_TITLE[framework]}: hookguard ÷ raw limit round by round ${roundByRound(reqPerSecRatios(hg, limit))}`);
    const cpu = limit.roundCpuUs.map((n, i) => n / hg.roundCpuUs[i]!).filter((r) => !Number.isNaN(r));
    if (cpu.length > 0) targets.push(`  raw limit ÷ hookguard CPU per request round by round ${roundByRound(cpu)}`);
  }
  for (const framework of FRAMEWORKS) {
    const delayed = rowOf(framework, "limit-delay");
    const limit = rowOf(framework, "limit");
    if (!delayed || !limit) continue;
    const cpu = delayed.cpuUsPerRequest !== undefined && limit.cpuUsPerRequest !== undefined ? `; CPU per request +${fmt(delayed.cpuUsPerRequest - limit.cpuUsPerRequest, 1)} µs (medians)` : "";
    targets.push(`- ${FRAMEWORK_TITLE[framework]}: ${VARIANT_TITLE["limit-delay"]} ÷ raw limit round by round ${roundByRound(reqPerSecRatios(delayed, limit))}${cpu}`);
  }
  out.push("", ...targets);
  return out.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
  const duration = args.find((a) => a.startsWith("--duration="))?.slice("--duration=".length);
  const warmup = Number(args.find((a) => a.startsWith("--warmup="))?.slice("--warmup=".length) ?? 1);
  const servers = args.find((a) => a.startsWith("--variants="))?.slice("--variants=".length).split(",");
  const cpuProfDir = args.find((a) => a.startsWith("--cpu-prof="))?.slice("--cpu-prof=".length);
  const perfDir = args.find((a) => a.startsWith("--perf="))?.slice("--perf=".length);
  if (perfDir !== undefined) mkdirSync(perfDir, { recursive: true });
  const rounds = Number(args.find((a) => a.startsWith("--rounds="))?.slice("--rounds=".length) ?? 1);
  const pin = args.includes("--pin");
  const frameworks = only ? FRAMEWORKS.filter((f) => only.includes(f)) : FRAMEWORKS;
  const variants = servers ? VARIANTS.filter((v) => servers.includes(v)) : DEFAULT_VARIANTS;
  console.log(`HTTP bench: ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, loopback${pin ? ", server on CPU 0 and load generator on CPU 1" : ""}, 10 connections, ${duration ?? 5} s per server after ${warmup} s warm-up, ${rounds} round(s) (medians), 1 KiB bodies\n`);
  const rows = await benchHttp({
    frameworks,
    variants,
    cpuProfDir,
    perfDir,
    perfCallGraph: args.includes("--perf-callgraph"),
    rounds,
    pin,
    durationS: duration === undefined ? 5 : Number(duration),
    warmupS: warmup,
    onResult: (r) => console.error(`  ${r.framework}/${r.variant}: ${fmt(r.reqPerSec)} req/s, p99 ${r.p99Ms} ms, ${r.cpuUsPerRequest?.toFixed(1) ?? "?"} µs CPU/req (GC ${r.gcUsPerRequest?.toFixed(1) ?? "?"}, kernel ${r.sysUsPerRequest?.toFixed(1) ?? "?"}), ${r.failures} failures`),
  });
  console.log(formatHttpBench(rows));
}
