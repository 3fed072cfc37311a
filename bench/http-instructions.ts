// The HTTP bench's servers under valgrind's callgrind: instructions per request, the
// figure a shared, noisy machine cannot move (req/s ratios in bench/http.ts swung from
// 0.70× to 1.01× between two runs of the same code here). Each server runs twice, answering
// a first and a second number of 1 KiB Stripe requests (4 connections, keep-alive); the
// difference over the extra requests is one request's marginal cost, start-up excluded.
// --single-threaded keeps the collector and the compiler on the counted thread.
//
//   npx tsx bench/http-instructions.ts                       node, limit and hookguard
//   npx tsx bench/http-instructions.ts --only=node,fastify --variants=limit,hookguard --requests=4000,10000
//   npx tsx bench/http-instructions.ts --cache-sim          also simulate the caches: the
//                                                            estimated cycles per request count
//                                                            a first-level miss as 10 instructions
//                                                            and a last-level miss as 100, so a
//                                                            server that touches more memory shows
//                                                            it (about 2× slower to run)
//   npx tsx bench/http-instructions.ts --repeat=3           each server measured three times, the
//                                                            median reported and every run listed:
//                                                            one whole-server figure moves by
//                                                            ±10-15 % run to run (a major GC or a
//                                                            compilation falls inside the measured
//                                                            window or not)
//   npx tsx bench/http-instructions.ts --keep=/tmp/cg       keep the callgrind files, to compare
//                                                            servers function by function, the
//                                                            JIT's code named through V8's
//                                                            --perf-basic-prof map:
//                                                            npx tsx bench/callgrind-jit.ts …
//   npx tsx bench/http-instructions.ts --bundle=DIR          hookguard from a bundle built before
//                                                            (bench/http.ts's bundleHookguard), e.g.
//                                                            from main, to count a change against it
//   npx tsx bench/http-instructions.ts --transport=memory   no sockets: each server drives itself
//                                                            over in-memory connections
//                                                            (http-server.ts --memory=N), so no
//                                                            event-loop wake-ups, epoll batching or
//                                                            libuv reads fall in the count — the
//                                                            server's JavaScript and HTTP parsing
//                                                            only, to about ±2 % run to run. The
//                                                            in-process client's work is the same
//                                                            for every variant: compare the
//                                                            difference to the raw limit, not only
//                                                            the ratio
//
// Beside each whole-server count, the same without the garbage collector's and V8's
// compiler's functions (bench/callgrind-profile.ts' kinds): a major collection or a late
// tier-up that falls in one window and not the other moved whole counts by 5-15k per
// request between identical runs (session 17); the program's own work does not wait on them.
//
// Each server runs as one esbuild bundle of bench/http-server.ts with V8's seed fixed (see
// bundleServer): the raw limit then counts within ~2k of itself run to run (session 16).
// About 2 minutes per server and framework (valgrind runs node some 50× slower).
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import Stripe from "stripe";
import { STRIPE_SECRET, jsonEvent } from "./fixtures";
import { COLLECTOR, COMPILER, groupTotals, profile } from "./callgrind-profile";
import { bundleHookguard, median } from "./http";
import { FRAMEWORKS, PATH, VARIANTS, type Framework, type Variant } from "./http-server";

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const frameworks = (option("only")?.split(",") ?? ["node"]) as Framework[];
const variants = (option("variants")?.split(",") ?? ["limit", "hookguard"]) as Variant[];
const keep = option("keep");
// callgrind cannot create the folder it writes to.
if (keep !== undefined) mkdirSync(keep, { recursive: true });
const cacheSim = process.argv.includes("--cache-sim");
const transport = option("transport") ?? "loopback";
const inMemory = transport === "memory";
const repeat = Number(option("repeat") ?? 1);
const [first, second] = (option("requests") ?? "4000,10000").split(",").map(Number) as [number, number];
if (frameworks.some((f) => !FRAMEWORKS.includes(f)) || variants.some((v) => !VARIANTS.includes(v)) || !(first > 0 && second > first) || !(Number.isInteger(repeat) && repeat >= 1) || !(transport === "loopback" || transport === "memory")) {
  console.error("usage: npx tsx bench/http-instructions.ts [--only=node,express,fastify,hono] [--variants=bare,limit,stripe-sdk,hookguard] [--requests=A,B with B > A] [--repeat=N] [--cache-sim] [--keep=DIR] [--transport=loopback|memory] [--bundle=DIR]");
  process.exit(2);
}

const stripe = new Stripe("sk_test_x");
const bodies: Buffer[] = [];
for (let i = 0; i < 512; i++) bodies.push(jsonEvent(1024, { id: `evt_${String(i).padStart(12, "0")}`, object: "event", type: "invoice.paid" }));
// Signed as each request goes out (the client's cost is not counted): under valgrind a run
// can outlast Stripe's 300 s window, which would turn a pool signed up front stale.
const signed = (i: number) => {
  const body = bodies[i % bodies.length]!;
  return { body, signature: stripe.webhooks.generateTestHeaderString({ payload: body.toString("utf8"), secret: STRIPE_SECRET }) };
};

/** What callgrind counted over a whole run. */
interface Counts {
  readonly instructions: number;
  /** Last-level cache misses (instruction and data), with --cache-sim. */
  readonly llMisses: number;
  /** Instructions + 10 × first-level misses + 100 × last-level misses (callgrind_annotate's estimate), with --cache-sim. */
  readonly cycles: number;
  /**
   * Instructions outside the garbage collector's and V8's compiler's functions
   * (bench/callgrind-profile.ts' kinds): the program's own work. A collection or a
   * compilation that falls in one window and not the other moves the whole count by
   * thousands per request; this one repeated within 200 (session 17: Node's limit 204,561
   * and 204,389, hookguard 211,219 and 211,178).
   */
  readonly own: number;
}

/** Sends `requests` requests over loopback to the server on `port` (4 keep-alive connections); returns how many got a 200. */
async function driveOverLoopback(port: number, requests: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let sent = 0;
  let verified = 0;
  const worker = async () => {
    while (sent < requests) {
      const { body, signature } = signed(sent++);
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: PATH, method: "POST", agent, headers: { "content-type": "application/json", "stripe-signature": signature, "content-length": body.length } }, (res) => {
          if (res.statusCode === 200) verified++;
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end(body);
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  agent.destroy();
  return verified;
}

/**
 * bench/http-server.ts as one esbuild bundle (its bench/ and src/ imports inlined; packages and
 * the hookguard bundle loaded at run time), written under node_modules/.cache so that the
 * packages resolve. Until session 16 the servers ran through `--import tsx`: its loader thread
 * answered the servers' lazy `require`s when they came (`makeAsyncRequest`,
 * `FutexEmulation::WaitJs32` rows), in one counted window or the other — bench/instructions.sh's
 * subjects moved by 11k-26k instructions between identical runs that way.
 */
async function bundleServer(): Promise<string> {
  const outfile = join(fileURLToPath(new URL("../node_modules/.cache/", import.meta.url)), `hookguard-http-server-${process.pid}`, "http-server.mjs");
  await build({ entryPoints: [fileURLToPath(new URL("./http-server.ts", import.meta.url))], bundle: true, platform: "node", format: "esm", packages: "external", outfile, logLevel: "warning" });
  return outfile;
}

/** Runs one server under callgrind for `requests` requests; returns what it counted. */
async function count(server: string, bundle: string, framework: Framework, variant: Variant, requests: number): Promise<Counts> {
  const out = join(keep ?? tmpdir(), `hookguard-callgrind-${process.pid}-${framework}-${variant}-${requests}`);
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      ...(cacheSim ? ["--cache-sim=yes"] : []),
      `--callgrind-out-file=${out}`,
      process.execPath,
      "--single-threaded",
      // V8's Math.random (the memory store's hash seed, probe lengths) the same in every run.
      "--random-seed=7",
      // Kept profiles can name the JIT's code (bench/callgrind-jit.ts reads V8's map of it).
      ...(keep === undefined ? [] : ["--perf-basic-prof"]),
      server,
      framework,
      variant,
      ...(inMemory ? [`--memory=${requests}`] : []),
    ],
    {
      // stdin a pipe: the server exits when its stdin ends (its parent gone).
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, HOOKGUARD_HTTP_BUNDLE: bundle },
    },
  );
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve) => {
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
    });
  });
  let verified: number;
  if (inMemory) {
    // The server drives itself and reports the requests it verified on its way out.
    const code = await exited;
    const processed = /processed=(\d+)/.exec(stdout)?.[1];
    if (code !== 0 || processed === undefined) throw new Error(`${framework}/${variant} failed (exit ${code}):\n${stderr.slice(-2000)}`);
    verified = Number(processed);
  } else {
    // Over loopback the server's first line is its port.
    const line = await Promise.race([
      firstLine,
      exited.then(() => {
        throw new Error(`${framework}/${variant} exited before listening:\n${stderr}`);
      }),
    ]);
    verified = await driveOverLoopback(Number(line), requests);
    child.kill("SIGTERM");
    await exited;
  }
  const kinds = groupTotals(profile(out));
  if (keep === undefined) rmSync(out, { force: true });
  if (verified !== requests && variant !== "bare") throw new Error(`${framework}/${variant}: ${verified} of ${requests} requests verified`);
  // Without the cache simulation: Ir. With it, nine counts in the order of the "Events" line,
  // which valgrind has changed between versions (3.19: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw).
  const events = /Events +:((?: \w+)+)/.exec(stderr)?.[1]?.trim().split(" ");
  const total = /Collected :((?: \d+)+)/.exec(stderr)?.[1]?.trim().split(" ").map(Number);
  if (events === undefined || total === undefined || events.length !== total.length) throw new Error(`${framework}/${variant}: callgrind printed no total:\n${stderr}`);
  const event = (name: string) => total[events.indexOf(name)] ?? 0;
  const [ir, i1, il, d1r, dlr, d1w, dlw] = ["Ir", "I1mr", "ILmr", "D1mr", "DLmr", "D1mw", "DLmw"].map(event) as [number, number, number, number, number, number, number];
  const llMisses = il + dlr + dlw;
  return { instructions: ir, llMisses, cycles: ir + 10 * (i1 + d1r + d1w) + 100 * llMisses, own: ir - kinds.get(COLLECTOR)! - kinds.get(COMPILER)! };
}

// --bundle=DIR: count a bundle built before (bench/http.ts's bundleHookguard layout), e.g. one
// from main against one from a change; it is left in place.
const given = option("bundle");
const bundle = given ?? (await bundleHookguard());
// Built inside the try: a failed build still removes the hookguard bundle made above.
let server: string | undefined;
try {
  server = await bundleServer();
  console.log(`Instructions per request (callgrind, ${first} → ${second} requests, 1 KiB Stripe events, ${inMemory ? "in-memory connections" : "loopback"}, ${process.version})\n`);
  console.log(
    cacheSim
      ? "| framework | server | instructions/request | × raw limit | without collector & compiler | × raw limit | LL misses/request | est. cycles/request | × raw limit |\n|:--|:--|--:|--:|--:|--:|--:|--:|--:|"
      : "| framework | server | instructions/request | × raw limit | without collector & compiler | × raw limit |\n|:--|:--|--:|--:|--:|--:|",
  );
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  for (const framework of frameworks) {
    const perRequest = new Map<Variant, Counts>();
    const spreads: string[] = [];
    for (const variant of variants) {
      const runs: Counts[] = [];
      for (let r = 0; r < repeat; r++) {
        // The two counts of a server run side by side: one per core.
        const [a, b] = await Promise.all([count(server, bundle, framework, variant, first), count(server, bundle, framework, variant, second)]);
        const marginal = (k: keyof Counts) => (b[k] - a[k]) / (second - first);
        runs.push({ instructions: marginal("instructions"), llMisses: marginal("llMisses"), cycles: marginal("cycles"), own: marginal("own") });
      }
      const middle = (k: keyof Counts) => median(runs.map((c) => c[k]));
      perRequest.set(variant, { instructions: middle("instructions"), llMisses: middle("llMisses"), cycles: middle("cycles"), own: middle("own") });
      if (repeat > 1) {
        spreads.push(
          `${framework}/${variant}: instructions per request ${runs.map((c) => fmt(c.instructions)).join(", ")}; without the collector and compiler ${runs.map((c) => fmt(c.own)).join(", ")}`,
        );
      }
    }
    const limit = perRequest.get("limit");
    // The difference too: in memory, every server's count carries the same client work.
    const ratio = (n: number, of: number | undefined) => (of === undefined ? "–" : `${(n / of).toFixed(2)}× (${n >= of ? "+" : "−"}${fmt(Math.abs(n - of))})`);
    for (const [variant, n] of perRequest) {
      const cells = [framework, variant, fmt(n.instructions), ratio(n.instructions, limit?.instructions), fmt(n.own), ratio(n.own, limit?.own)];
      if (cacheSim) cells.push(fmt(n.llMisses), fmt(n.cycles), ratio(n.cycles, limit?.cycles));
      console.log(`| ${cells.join(" | ")} |`);
    }
    for (const line of spreads) console.log(`\n${line}`);
  }
} finally {
  if (given === undefined) rmSync(bundle, { recursive: true, force: true });
  if (server !== undefined) rmSync(join(server, ".."), { recursive: true, force: true });
}
