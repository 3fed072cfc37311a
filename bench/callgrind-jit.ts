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
//
// Code V8 moved or freed between the compile and the end of the run may be named wrongly or
// not at all ("JIT ?"); a function compiled twice (after a deopt) is listed once, summed.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

interface Region {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

function perfMap(pid: string): Region[] {
  const path = `/tmp/perf-${pid}.map`;
  if (!existsSync(path)) return [];
  const regions: Region[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const [start, size, ...name] = line.split(" ");
    if (start === undefined || size === undefined || name.length === 0) continue;
    const s = Number.parseInt(start, 16);
    regions.push({ start: s, end: s + Number.parseInt(size, 16), name: name.join(" ").replace(/file:\/\/\/tmp\/hookguard-http-bench-\w+\//, "hookguard/") });
  }
  return regions.sort((a, b) => a.start - b.start);
}

function nameOf(regions: readonly Region[], address: number): string {
  let lo = 0;
  let hi = regions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = regions[mid]!;
    if (address < r.start) hi = mid - 1;
    else if (address >= r.end) lo = mid + 1;
    else return `JIT ${r.name}`;
  }
  return "JIT ?";
}

/** Instructions by function (self cost), JIT frames named. */
function profile(file: string): Map<string, number> {
  const text = execFileSync("callgrind_annotate", ["--threshold=100", "--inclusive=no", file], { encoding: "utf8", maxBuffer: 1 << 28 });
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

function marginal(fewer: string, more: string, calls: number): Map<string, number> {
  const a = profile(fewer);
  const b = profile(more);
  const out = new Map<string, number>();
  for (const name of new Set([...a.keys(), ...b.keys()])) out.set(name, ((b.get(name) ?? 0) - (a.get(name) ?? 0)) / calls);
  return out;
}

const [fewer, more, between, fewer2, more2] = process.argv.slice(2);
const calls = Number(between);
if (fewer === undefined || more === undefined || !(calls > 0) || (fewer2 !== undefined && more2 === undefined)) {
  console.error("usage: npx tsx bench/callgrind-jit.ts <fewer.out> <more.out> <calls between> [<fewer2.out> <more2.out>]");
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
for (const r of rows.sort((x, y) => Math.abs(y.d) - Math.abs(x.d)).slice(0, 50)) {
  const cols = second ? `${r.d.toFixed(0).padStart(8)} ${r.a.toFixed(0).padStart(8)} ${r.b.toFixed(0).padStart(8)}` : r.a.toFixed(0).padStart(8);
  console.log(`${cols}  ${r.name.slice(0, 140)}`);
}
