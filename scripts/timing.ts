// `npx tsx scripts/timing.ts`: does the time to reject a wrong signature depend on how many of
// its leading bytes match the right one? Measured statistically (dudect's method: two input
// classes interleaved at random, tails cropped, Welch's t-test; |t| > 4.5 means the
// classes are distinguishable), each measurement in several independent rounds, next to
// controls: leak controls (a naive early-exit comparison, measured the same way) prove the
// setup would see a leak; null controls (two classes with equally many bytes right) prove it
// does not see one where there is none. Reported in docs/reliability.md; not a test,
// because a timing assertion on a shared 2-core machine would be flaky by nature.
//
//   npx tsx scripts/timing.ts                 # the default sample sizes (a few minutes)
//   npx tsx scripts/timing.ts --samples 600000 --rounds 5
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { stripe } from "../src/index";
import { timingSafeEqual } from "../src/internal/crypto";
import type { WebhookScheme } from "../src/types";
import { verifyRequest } from "../src/verify";

const { values } = parseArgs({ options: { samples: { type: "string", default: "300000" }, rounds: { type: "string", default: "3" } } });
const ROUNDS = Number(values.rounds);
const SAMPLES = Number(values.samples);
if (!Number.isSafeInteger(SAMPLES) || SAMPLES < 1000 || !Number.isSafeInteger(ROUNDS) || ROUNDS < 1) {
  console.error("--samples must be an integer >= 1000, --rounds >= 1");
  process.exit(2);
}

const SECRET = "whsec_timing_measurement";
const BODY = JSON.stringify({ id: "evt_timing", type: "timing.check", data: { pad: "x".repeat(600) } });
const NOW = 1893456000_000;
// Many signed timestamps, so many right digests. With one digest, the class whose
// signatures copy 31 of its bytes would also share the hex text's mix of digits and
// letters, which decoding the header is (slightly) sensitive to, whatever the comparison
// does: measured before this was spread out.
const POOL = 256;
const entries = Array.from({ length: POOL }, (_, i) => {
  const t = String(NOW / 1000 - i);
  return { t, digest: createHmac("sha256", SECRET).update(`${t}.${BODY}`).digest() };
});

/** A wrong signature for entry `e`: its first `k` bytes right (k < 32), byte k wrong, the rest random. */
function wrongSignature(e: number, k: number): Uint8Array {
  const right = entries[e]!.digest;
  const out = Uint8Array.from(right);
  for (let i = k; i < out.length; i++) out[i] = Math.floor(Math.random() * 256);
  out[k] = right[k]! ^ (1 + Math.floor(Math.random() * 255));
  return out;
}

function request(e: number, sig: Uint8Array): { body: string; headers: Record<string, string> } {
  return { body: BODY, headers: { "stripe-signature": `t=${entries[e]!.t},v1=${Buffer.from(sig).toString("hex")}`, "content-type": "application/json" } };
}

/** The leak the control shows: stops at the first differing byte. */
function naiveEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Stats {
  n: number;
  mean: number;
  variance: number;
  median: number;
}

function stats(xs: number[], cropAt: number): Stats {
  const kept = xs.filter((x) => x <= cropAt);
  const n = kept.length;
  const mean = kept.reduce((s, x) => s + x, 0) / n;
  const variance = kept.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const sorted = [...kept].sort((a, b) => a - b);
  return { n, mean, variance, median: sorted[n >> 1]! };
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function welch(a: Stats, b: Stats): number {
  return (a.mean - b.mean) / Math.sqrt(a.variance / a.n + b.variance / b.n);
}

type Probe = (cls: 0 | 1) => void | Promise<void>;
/** Sets up the next sample's input for a class, outside the timed region. */
type Prepare = (cls: 0 | 1, n: number) => void;

/**
 * Times `probe` for class 0 and class 1, interleaved in random order, `batch` calls per
 * sample; returns ns per call. The crop (both classes at the same pooled percentile) is
 * dudect's defence against interrupts and GC pauses.
 */
async function measure(prepare: Prepare, probe: Probe, samples: number, batch: number): Promise<{ t: number; a: Stats; b: Stats }> {
  const times: [number[], number[]] = [[], []];
  // Awaited only when the probe is asynchronous: an `await` per call would add a
  // microtask's cost to every sample and bury a synchronous difference.
  const run = async (cls: 0 | 1): Promise<void> => {
    for (let j = 0; j < batch; j++) {
      const pending = probe(cls);
      if (pending) await pending;
    }
  };
  for (let i = 0; i < Math.min(20_000, samples); i++) {
    prepare((i & 1) as 0 | 1, i);
    await run((i & 1) as 0 | 1); // warm-up: JIT, caches
  }
  for (let i = 0; i < 2 * samples; i++) {
    const cls = (Math.random() < 0.5 ? 0 : 1) as 0 | 1;
    prepare(cls, i);
    const start = process.hrtime.bigint();
    await run(cls);
    times[cls].push(Number(process.hrtime.bigint() - start) / batch);
  }
  const crop = quantile([...times[0], ...times[1]], 0.9);
  const a = stats(times[0], crop);
  const b = stats(times[1], crop);
  return { t: welch(a, b), a, b };
}

const schemes: Record<"node" | "web", WebhookScheme<unknown>> = { node: stripe({ secret: SECRET, crypto: "node" }), web: stripe({ secret: SECRET, crypto: "web" }) };
const NONE = 0; // leading bytes matching in class 0
const ALL_BUT_ONE = 31; // in class 1
// One wrong signature per entry and class; sample n uses entry n % POOL in either class.
const pool = (k: number): Uint8Array[] => entries.map((_, e) => wrongSignature(e, k));
const sigs: [Uint8Array[], Uint8Array[]] = [pool(NONE), pool(ALL_BUT_ONE)];
// The null control's second class: as many bytes right as the first (none), other signatures.
const sigsAA: [Uint8Array[], Uint8Array[]] = [pool(NONE), pool(NONE)];
const requests = (p: [Uint8Array[], Uint8Array[]]): [ReturnType<typeof request>[], ReturnType<typeof request>[]] => [p[0].map((s, e) => request(e, s)), p[1].map((s, e) => request(e, s))];
const classes = requests(sigs);
const classesAA = requests(sigsAA);

// Sanity: both classes are rejected for the signature, not for anything else.
for (const impl of ["node", "web"] as const) {
  for (const req of [...classes.flat(), ...classesAA.flat()]) {
    const o = await verifyRequest(req, schemes[impl], { now: NOW });
    if (o.ok || o.code !== "signature_mismatch") throw new Error(`expected signature_mismatch on ${impl}, got ${JSON.stringify(o)}`);
  }
}

/** What a row is: the library (must not be distinguishable), a positive control (must be), a null control (must not be). */
type Kind = "library" | "leak control" | "null control";

/**
 * One measurement, repeated in `ROUNDS` independent rounds. A real dependence shows in
 * every round; a burst of load from another process on a shared machine inflates one.
 */
const rows: { what: string; kind: Kind; ts: number[] }[] = [];
async function row(kind: Kind, what: string, prepare: Prepare, probe: Probe, samples: number, batch: number): Promise<void> {
  const ts: number[] = [];
  let last: { a: Stats; b: Stats } | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const m = await measure(prepare, probe, samples, batch);
    ts.push(m.t);
    last = m;
  }
  rows.push({ what, kind, ts });
  console.log(`| ${kind} | ${what} | ${ts.map((t) => Math.abs(t).toFixed(2)).join(" / ")} | ${last!.a.mean.toFixed(1)} vs ${last!.b.mean.toFixed(1)} |`);
}

console.log(`Time to reject a wrong signature with ${NONE} vs ${ALL_BUT_ONE} of 32 leading bytes right: ${ROUNDS} rounds of ${SAMPLES} samples per class (Web Crypto: a quarter); |t| > 4.5 = distinguishable\n`);
console.log("| row | path | \\|t\\| per round | mean ns per call, class 0 vs class 1 (last round) |\n|---|---|---|---|");
let sink = 0;

// Whole requests: each call parses the header and decodes a fresh digest, as in production.
let current = classes[0][0]!;
let currentDigest = entries[0]!.digest;
const pick = (set: typeof classes) => (c: 0 | 1, n: number) => {
  current = set[c][n % POOL]!;
  currentDigest = entries[n % POOL]!.digest;
};
await row("library", "verifyRequest, stripe(), node:crypto (the hot path)", pick(classes), () => void (sink += verifyRequest(current, schemes.node, { now: NOW }) ? 1 : 0), SAMPLES, 1);
await row("library", "verifyRequest, stripe(), Web Crypto (edge runtimes)", pick(classes), async () => void (sink += (await verifyRequest(current, schemes.web, { now: NOW })).ok ? 1 : 0), Math.max(1000, SAMPLES >> 2), 1);

// The primitive alone: one buffer whose content is set before each sample, so both classes
// compare the very same memory (separate objects per class differ measurably by where they
// sit in memory: the null control below shows how much).
const shared = new Uint8Array(32);
const right = new Uint8Array(32);
const fill = (set: [Uint8Array[], Uint8Array[]]) => (c: 0 | 1, n: number) => {
  shared.set(set[c][n % POOL]!);
  right.set(entries[n % POOL]!.digest);
};
await row("library", "timingSafeEqual, node:crypto, 32 bytes", fill(sigs), () => void (sink += timingSafeEqual(right, shared, "node") ? 1 : 0), SAMPLES, 16);
await row("library", "timingSafeEqual, portable XOR loop (Web path), 32 bytes", fill(sigs), () => void (sink += timingSafeEqual(right, shared, "web") ? 1 : 0), SAMPLES, 16);
await row("leak control", "a naive early-exit loop, 32 bytes", fill(sigs), () => void (sink += naiveEqual(right, shared) ? 1 : 0), SAMPLES, 16);
await row(
  "leak control",
  "verifyRequest followed by a naive compare",
  pick(classes),
  () => {
    sink += verifyRequest(current, schemes.node, { now: NOW }) ? 1 : 0;
    sink += naiveEqual(currentDigest, Buffer.from(current.headers["stripe-signature"]!.slice(-64), "hex")) ? 1 : 0;
  },
  SAMPLES,
  1,
);
await row("null control", "verifyRequest, node:crypto, 0 vs 0 bytes right (other signatures)", pick(classesAA), () => void (sink += verifyRequest(current, schemes.node, { now: NOW }) ? 1 : 0), SAMPLES, 1);
await row("null control", "timingSafeEqual, node:crypto, 0 vs 0 bytes right", fill(sigsAA), () => void (sink += timingSafeEqual(right, shared, "node") ? 1 : 0), SAMPLES, 16);

// How the time per call varies with the number of matching leading bytes, node:crypto path.
console.log("\nnode:crypto verifyRequest, mean ns per rejection (cropped at p90) by matching leading bytes:");
const ks = [0, 1, 2, 4, 8, 16, 24, 31];
const reqs = ks.map((k) => entries.map((_, e) => request(e, wrongSignature(e, k))));
const per: number[][] = ks.map(() => []);
for (let i = 0; i < 20_000; i++) verifyRequest(reqs[i % ks.length]![i % POOL]!, schemes.node, { now: NOW });
const sweepSamples = Math.max(1000, SAMPLES >> 1);
for (let i = 0; i < sweepSamples * ks.length; i++) {
  const j = Math.floor(Math.random() * ks.length);
  const req = reqs[j]![i % POOL]!;
  const start = process.hrtime.bigint();
  sink += verifyRequest(req, schemes.node, { now: NOW }) ? 1 : 0;
  per[j]!.push(Number(process.hrtime.bigint() - start));
}
const crop = quantile(per.flat(), 0.9);
const means = per.map((xs) => stats(xs, crop));
// Least-squares slope of mean time against k, with its standard error.
const kMean = ks.reduce((s, k) => s + k, 0) / ks.length;
const yMean = means.reduce((s, m) => s + m.mean, 0) / ks.length;
const sxx = ks.reduce((s, k) => s + (k - kMean) ** 2, 0);
const slope = ks.reduce((s, k, i) => s + (k - kMean) * (means[i]!.mean - yMean), 0) / sxx;
const resid = ks.reduce((s, k, i) => s + (means[i]!.mean - (yMean + slope * (k - kMean))) ** 2, 0) / (ks.length - 2);
const slopeSe = Math.sqrt(resid / sxx);
console.log(`  ${ks.map((k, i) => `${k}: ${means[i]!.mean.toFixed(1)}`).join("   ")}`);
console.log(`  slope ${slope.toFixed(3)} ns per matching byte (± ${(1.96 * slopeSe).toFixed(3)}, 95%)`);

// Seen = distinguishable in every round. The library and the null controls must not be
// seen; the leak controls must be, or the setup was too noisy to conclude anything.
const seen = (r: (typeof rows)[number]): boolean => r.ts.every((t) => Math.abs(t) > 4.5);
const leaks = rows.filter((r) => r.kind === "library" && seen(r));
const blind = rows.filter((r) => r.kind === "leak control" && !seen(r));
const artefacts = rows.filter((r) => r.kind === "null control" && seen(r));
const verdict = [
  leaks.length === 0 ? "no dependence on the number of matching leading bytes detected" : `DISTINGUISHABLE: ${leaks.map((r) => r.what).join("; ")}`,
  ...(blind.length ? [`a leak control was not seen (${blind.map((r) => r.what).join("; ")}): too noisy to conclude, raise --samples`] : []),
  ...(artefacts.length ? [`a null control was seen (${artefacts.map((r) => r.what).join("; ")}): the setup has an artefact`] : []),
];
console.log(`\n${verdict.join("; ")}${sink > -1 ? "" : "."}`);
process.exit(leaks.length === 0 && blind.length === 0 && artefacts.length === 0 ? 0 : 1);
