// Where two HTTP bench servers spend their time differently, per request, from the Linux
// `perf record -e cpu-clock` samples `bench/http.ts --perf=DIR` takes of each server
// (V8's compiled functions named through --perf-basic-prof). Samples are a timer's, so the
// figures are time, native code, the kernel and JavaScript alike: what an instruction
// count misses (cache and TLB misses, SHA extensions doing a round per instruction).
//
//   npx tsx bench/http.ts --only=node --variants=limit,hookguard --rounds=4 --perf=/tmp/perf
//   npx tsx bench/perf-diff.ts /tmp/perf node-limit node-hookguard [--top=40]
//
// Each side sums its rounds' samples and divides by the requests they served (the .json
// written beside each .data), so rounds of different lengths weigh what they served. Prints
// µs per request by where the code lives (kernel, node, libc, JIT, …), then the functions
// whose time differs most. V8's names drop the compile tier marker (`*`, `~`, `^`) and the
// column, so a function recompiled keeps one row.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const HZ = 2999; // bench/http.ts samples at this rate

interface Side {
  /** µs per request by symbol. */
  readonly bySymbol: Map<string, number>;
  /** µs per request by where the code lives. */
  readonly byDso: Map<string, number>;
  /** µs per request on the main thread (JavaScript, the event loop) and on the others (V8's compiler and collector, libuv's pool). */
  readonly byThread: Map<string, number>;
  readonly served: number;
}

function symbolName(sym: string): string {
  return sym
    .replace(/^JS:[*~^]?/, "JS:")
    .replace(/(:\d+):\d+$/, "$1")
    // bench/http.ts bundles hookguard into a new temporary folder per round.
    .replace(/hookguard-http-bench-[^/]+\//, "hookguard-http-bench/")
    .trim();
}

function dsoName(dso: string): string {
  if (dso.startsWith("[JIT]")) return "[JIT] JavaScript and V8's stubs";
  if (dso === "[kernel.kallsyms]") return "[kernel]";
  return dso;
}

function read(dir: string, prefix: string): Side {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith(".data"));
  if (files.length === 0) throw new Error(`no ${prefix}-*.data in ${dir}`);
  const samples = new Map<string, number>();
  const dsoSamples = new Map<string, number>();
  const threadSamples = new Map<string, number>();
  let served = 0;
  for (const file of files) {
    const meta = JSON.parse(readFileSync(join(dir, file.replace(/\.data$/, ".json")), "utf8")) as { served?: number };
    if (!(typeof meta.served === "number" && meta.served > 0)) throw new Error(`${file}: the server reported no requests`);
    served += meta.served;
    const text = execFileSync("perf", ["report", "-i", join(dir, file), "--no-children", "-n", "--sort", "pid,dso,sym", "--stdio"], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] });
    const rows = [...text.matchAll(/^\s*[\d.]+%\s+(\d+)\s+(\d+):\S+\s+(\S+(?: tid \d+)?)\s+\[[.k]\]\s+(.*)$/gm)];
    // The main thread's id is the process's: the smallest of them.
    const main = Math.min(...rows.map((m) => Number(m[2])));
    for (const m of rows) {
      // "  12.34%  1234  8840:node  node  [.] symbol"
      const n = Number(m[1]);
      const thread = Number(m[2]) === main ? "main thread" : "other threads";
      threadSamples.set(thread, (threadSamples.get(thread) ?? 0) + n);
      const dso = dsoName(m[3]!);
      const sym = `${symbolName(m[4]!)}  (${dso}${thread === "main thread" ? "" : ", other threads"})`;
      samples.set(sym, (samples.get(sym) ?? 0) + n);
      dsoSamples.set(dso, (dsoSamples.get(dso) ?? 0) + n);
    }
  }
  const perRequest = (m: Map<string, number>) => new Map([...m].map(([k, n]) => [k, (n * 1e6) / HZ / served]));
  return { bySymbol: perRequest(samples), byDso: perRequest(dsoSamples), byThread: perRequest(threadSamples), served };
}

function table(a: Map<string, number>, b: Map<string, number>, top: number): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  const rows = keys.map((k) => ({ k, a: a.get(k) ?? 0, b: b.get(k) ?? 0 })).sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
  return rows.slice(0, top).map((r) => `${(r.b - r.a >= 0 ? "+" : "") + (r.b - r.a).toFixed(2)}`.padStart(8) + `${r.a.toFixed(2)}`.padStart(8) + `${r.b.toFixed(2)}`.padStart(8) + `  ${r.k}`);
}

const [dir, aPrefix, bPrefix] = process.argv.slice(2);
const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice("--top=".length) ?? 40);
if (dir === undefined || aPrefix === undefined || bPrefix === undefined || dir.startsWith("--")) {
  console.error("usage: npx tsx bench/perf-diff.ts <dir> <framework-variant A> <framework-variant B> [--top=N]");
  process.exit(2);
}
const a = read(dir, aPrefix);
const b = read(dir, bPrefix);
const total = (s: Side) => [...s.byDso.values()].reduce((x, y) => x + y, 0);
console.log(`${aPrefix}: ${total(a).toFixed(2)} µs sampled per request over ${a.served} requests; ${bPrefix}: ${total(b).toFixed(2)} µs over ${b.served}\n`);
console.log(`    B−A       A       B  µs per request, by thread`);
console.log(table(a.byThread, b.byThread, Infinity).join("\n"));
console.log(`\n    B−A       A       B  µs per request, by where the code lives`);
console.log(table(a.byDso, b.byDso, Infinity).join("\n"));
// Functions only one side runs are its own code's cost, whatever the machine's speed did
// between the runs; the shared ones (the HTTP parser, JSON.parse, SHA-256, the kernel) move
// with that speed too, and their difference mixes both.
/** µs per request of the side's functions that the other side runs too (`shared`), or does not. */
const sumOf = (side: Side, other: Side, shared: boolean) => [...side.bySymbol].filter(([k]) => other.bySymbol.has(k) === shared).reduce((n, [, us]) => n + us, 0);
const ownA = "functions only A runs";
const ownB = "functions only B runs";
const both = "functions both run";
console.log(`\n    B−A       A       B  µs per request, by whether both sides run the function`);
console.log(
  table(
    new Map([[ownA, sumOf(a, b, false)], [both, sumOf(a, b, true)]]),
    new Map([[ownB, sumOf(b, a, false)], [both, sumOf(b, a, true)]]),
    Infinity,
  ).join("\n"),
);
console.log(`\n    B−A       A       B  µs per request, the ${top} functions that differ most`);
console.log(table(a.bySymbol, b.bySymbol, top).join("\n"));
