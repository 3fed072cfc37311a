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
import { groupTotals, profile } from "./callgrind-profile";

function marginal(fewer: string, more: string, calls: number): Map<string, number> {
  const a = profile(fewer, event);
  const b = profile(more, event);
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
  const byKind = groupTotals(first);
  const byKind2 = second === undefined ? undefined : groupTotals(second);
  for (const [g, a] of byKind) {
    const b = byKind2?.get(g) ?? 0;
    console.log(`${byKind2 ? `${(b - a).toFixed(0).padStart(8)} ${a.toFixed(0).padStart(8)} ${b.toFixed(0).padStart(8)}` : a.toFixed(0).padStart(8)}  [${g}]`);
  }
  console.log("");
}
for (const r of rows.sort((x, y) => Math.abs(y.d) - Math.abs(x.d)).slice(0, top)) {
  const cols = second ? `${r.d.toFixed(0).padStart(8)} ${r.a.toFixed(0).padStart(8)} ${r.b.toFixed(0).padStart(8)}` : r.a.toFixed(0).padStart(8);
  console.log(`${cols}  ${r.name.slice(0, 140)}`);
}
