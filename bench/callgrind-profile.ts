// A callgrind profile read function by function, V8's compiled JavaScript named through its
// --perf-basic-prof map, and the kinds of work its rows fall in: what bench/callgrind-jit.ts
// lists and bench/http-instructions.ts subtotals.
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

/** One event's count by function (self cost; instructions unless `event` says otherwise), JIT frames named where V8 wrote a map. */
export function profile(file: string, event = "Ir"): Map<string, number> {
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

export const COLLECTOR = "garbage collector";
export const COMPILER = "V8's compiler";

/** Kinds of work, first match wins: what callgrind-jit --groups and http-instructions subtotal. */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  ["hookguard (compiled)", /^JIT .*hookguard\//],
  ["other compiled JS", /^JIT /],
  [
    COLLECTOR,
    /Scaveng|Marking|MarkCompact|Sweeper|Evacuat|IterateObjectCache|BodyDescriptorBase|Worklist|Pretenuring|LiveObjectRange|RecordMigratedSlot|heap::base|Heap::|Space::|SlotSet|RememberedSet|FreeList|GCTracer|PointersUpdat|MemoryChunk|Page::|ConcurrentMarking|Collector/,
  ],
  [COMPILER, /v8::internal::compiler::|v8::internal::(maglev|Compiler|OptimizingCompileDispatcher|Zone)|v8::internal::interpreter::BytecodeGenerator/],
  ["builtins", /^\?\?\?:Builtins_/],
  ["crypto", /libcrypto|sha256|SHA256|HMAC|EVP_|ossl_|CRYPTO_/],
  ["the rest (runtime, Node, libc, llhttp)", /./],
];

function groupOf(name: string): string {
  return GROUPS.find(([, re]) => re.test(name))![0];
}

/** A profile's counts summed by kind of work ({@link GROUPS}' names, each present). */
export function groupTotals(counts: ReadonlyMap<string, number>): Map<string, number> {
  const totals = new Map<string, number>(GROUPS.map(([g]) => [g, 0]));
  for (const [name, n] of counts) {
    const g = groupOf(name);
    totals.set(g, totals.get(g)! + n);
  }
  return totals;
}
