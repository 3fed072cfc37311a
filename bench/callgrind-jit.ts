// Instructions per call, function by function, with V8's compiled JavaScript named. Under
// callgrind the JIT's code is anonymous ("???:0x…"): run node with --perf-basic-prof and V8
// writes where each compiled function lives to /tmp/perf-<pid>.map, which this reads to name
// those addresses. Two profiles of one program at two call counts give the marginal cost of a
// call per function; two such pairs, the difference between two programs.
//
//   npx tsx bench/http-instructions.ts --transport=memory --keep=/tmp/cg ...   (adds --perf-basic-prof)
//   npx tsx bench/callgrind-jit.ts <fewer.out> <more.out> <calls between>
//   npx tsx bench/callgrind-jit.ts <fewer.out> <more.out> <calls between> <fewer2.out> <more2.out>
//       the second pair's marginal cost minus the first's (e.g. the raw limit's, then hookguard's)
//   --top=N   list N functions (default 50; 0 with --groups: the subtotals only), largest difference first
//   --event=E count E instead of instructions: with http-instructions' --cache-sim, I1mr
//             (first-level instruction-cache misses), D1mr, D1mw, ILmr, DLmr, DLmw
//   --groups  first, a subtotal per kind of work (the garbage collector, V8's compiler,
//             hookguard's compiled code, other compiled code, builtins, crypto, the rest):
//             a collection that falls in one window and not the other moves a whole-server
//             count by thousands, and this shows whether a difference is the collector's
//             or the program's own
//
// Where V8 freed code and reused its space, the map lists both: the later entry names the
// address (code that ran before the reuse is then misnamed, so read small rows with care).
// Code moved without a new entry is "JIT ?"; a function compiled twice is listed once, summed.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

interface Region {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  /** Line in the map: V8 reuses freed code space, and the later entry is the live one. */
  readonly order: number;
}

interface Regions {
  readonly list: readonly Region[];
  readonly longest: number;
}

function perfMap(pid: string): Regions {
  const path = `/tmp/perf-${pid}.map`;
  if (!existsSync(path)) return { list: [], longest: 0 };
  const regions: Region[] = [];
  let longest = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const [start, size, ...name] = line.split(" ");
    if (start === undefined || size === undefined || name.length === 0) continue;
    const s = Number.parseInt(start, 16);
    const length = Number.parseInt(size, 16);
    longest = Math.max(longest, length);
    regions.push({ start: s, end: s + length, name: name.join(" ").replace(/file:\/\/\/tmp\/hookguard-http-bench-\w+\//, "hookguard/"), order: regions.length });
  }
  return { list: regions.sort((a, b) => a.start - b.start), longest };
}

/** The function at `address`: of the regions that cover it, the one the map wrote last. */
function nameOf({ list, longest }: Regions, address: number): string {
  // The last region starting at or before the address, then back over every region that
  // could still reach it.
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.start <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  let found: Region | undefined;
  for (let i = hi; i >= 0 && list[i]!.start > address - longest; i--) {
    const r = list[i]!;
    if (address < r.end && (found === undefined || r.order > found.order)) found = r;
  }
  return found === undefined ? "JIT ?" : `JIT ${found.name}`;
}

/** One event's count by function (self cost; instructions unless --event), JIT frames named. */
function profile(file: string): Map<string, number> {
  const text = execFileSync("callgrind_annotate", ["--threshold=100", "--inclusive=no", `--show=${event}`, file], { encoding: "utf8", maxBuffer: 1 << 28 });
  const pid = /\(PID (\d+)/.exec(text)?.[1];
  if (pid === undefined) throw new Error(`${file}: no PID in its header`);
  const regions = perfMap(pid);
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m || m[2]!.includes("PROGRAM TOTALS")) continue;
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(m[2]!);
    const name = jit ? nameOf(regions, Number.parseInt(jit[1]!, 16)) : m[2]!.replace(/'\d+/, "").replace(/ \[[^\]]*\]$/, "");
    out.set(name, (out.get(name) ?? 0) + Number(m[1]!.replaceAll(",", "")));
  }
  return out;
}

/** Kinds of work, first match wins: what --groups subtotals. */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  ["hookguard (compiled)", /^JIT .*hookguard\//],
  ["other compiled JS", /^JIT /],
  [
    "garbage collector",
    /Scaveng|Marking|MarkCompact|Sweeper|Evacuat|IterateObjectCache|BodyDescriptorBase|Worklist|Pretenuring|LiveObjectRange|RecordMigratedSlot|heap::base|Heap::|Space::|SlotSet|RememberedSet|FreeList|GCTracer|PointersUpdat|MemoryChunk|Page::|ConcurrentMarking|Collector/,
  ],
  ["V8's compiler", /v8::internal::compiler::|v8::internal::(maglev|Compiler|OptimizingCompileDispatcher|Zone)|v8::internal::interpreter::BytecodeGenerator/],
  ["builtins", /^\?\?\?:Builtins_/],
  ["crypto", /libcrypto|sha256|SHA256|HMAC|EVP_|ossl_|CRYPTO_/],
  ["the rest (runtime, Node, libc, llhttp)", /./],
];

function groupOf(name: string): string {
  return GROUPS.find(([, re]) => re.test(name))![0];
}

function marginal(fewer: string, more: string, calls: number): Map<string, number> {
  const a = profile(fewer);
  const b = profile(more);
  const out = new Map<string, number>();
  for (const name of new Set([...a.keys(), ...b.keys()])) out.set(name, ((b.get(name) ?? 0) - (a.get(name) ?? 0)) / calls);
  return out;
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 50);
const event = args.find((a) => a.startsWith("--event="))?.slice(8) ?? "Ir";
const groups = args.includes("--groups");
const [fewer, more, between, fewer2, more2] = args.filter((a) => !a.startsWith("--"));
const calls = Number(between);
if (fewer === undefined || more === undefined || !(calls > 0) || (fewer2 !== undefined && more2 === undefined) || !(Number.isInteger(top) && top >= 0) || !/^\w+$/.test(event)) {
  console.error("usage: npx tsx bench/callgrind-jit.ts [--top=N] [--event=Ir|I1mr|D1mr|…] [--groups] <fewer.out> <more.out> <calls between> [<fewer2.out> <more2.out>]");
  process.exit(2);
}
const first = marginal(fewer, more, calls);
const second = fewer2 === undefined ? undefined : marginal(fewer2, more2!, calls);
const rows = [...new Set([...first.keys(), ...(second?.keys() ?? [])])].map((name) => {
  const a = first.get(name) ?? 0;
  const b = second?.get(name) ?? 0;
  return { name, a, b, d: second ? b - a : a };
});
const sum = (f: (r: (typeof rows)[number]) => number) => Math.round(rows.reduce((s, r) => s + f(r), 0));
console.log(second ? `per call: first ${sum((r) => r.a)}, second ${sum((r) => r.b)}, difference ${sum((r) => r.d)}` : `per call: ${sum((r) => r.a)}`);
if (groups) {
  const totals = new Map<string, { a: number; b: number; d: number }>(GROUPS.map(([g]) => [g, { a: 0, b: 0, d: 0 }]));
  for (const r of rows) {
    const t = totals.get(groupOf(r.name))!;
    t.a += r.a;
    t.b += r.b;
    t.d += r.d;
  }
  for (const [g, t] of totals) console.log(`${(second ? `${t.d.toFixed(0).padStart(8)} ${t.a.toFixed(0).padStart(8)} ${t.b.toFixed(0).padStart(8)}` : t.a.toFixed(0).padStart(8))}  [${g}]`);
  console.log("");
}
for (const r of rows.sort((x, y) => Math.abs(y.d) - Math.abs(x.d)).slice(0, top)) {
  const cols = second ? `${r.d.toFixed(0).padStart(8)} ${r.a.toFixed(0).padStart(8)} ${r.b.toFixed(0).padStart(8)}` : r.a.toFixed(0).padStart(8);
  console.log(`${cols}  ${r.name.slice(0, 140)}`);
}
