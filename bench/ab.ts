// Paired A/B of built hookguard bundles against the raw limit, in one process: for small
// differences (a few percent of a 1 KiB verify) that separate runs of `npm run bench` cannot
// resolve on a shared machine. Every subject runs a batch in turn, round after round, and
// each bundle is reported as the median of its per-round ratios to the raw limit's batch
// of the same round, so a burst of other work slows both sides of a ratio alike.
//
//   npm run build && cp -r dist /tmp/dist-new
//   git worktree add /tmp/base <ref> && (cd /tmp/base && npm ci && npm run build)
//   npx tsx bench/ab.ts --scheme=stripe --mode=verify /tmp/base/dist /tmp/dist-new
//
// --scheme=stripe|github   the raw limit and the preset compared (bench/raw.ts)
// --mode=verify|receive     verifyWebhook, or createWebhookReceiver().receive() with a
//                           memory store of 128 keys (each call a new claim: see
//                           bench-store.mjs)
// --rounds=N                rounds of 5,000 calls per subject after 3 warm-up rounds (40)
import type { Buffer } from "node:buffer";
import { pathToFileURL } from "node:url";
import type * as Index from "../src/index";
import { GITHUB_SECRET, STRIPE_SECRET, jsonEvent } from "./fixtures";
import { rawGitHub, rawStripe, type RawHeaders } from "./raw";
import { BENCH_STORE_ENTRIES } from "./bench-store.mjs";

type Call = (i: number) => unknown;

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const schemeName = option("scheme", "stripe");
const mode = option("mode", "verify");
const rounds = Number(option("rounds", "40"));
const dists = args.filter((a) => !a.startsWith("--"));
if ((schemeName !== "stripe" && schemeName !== "github") || (mode !== "verify" && mode !== "receive") || !(rounds > 0) || dists.length === 0) {
  console.error("usage: npx tsx bench/ab.ts [--scheme=stripe|github] [--mode=verify|receive] [--rounds=N] <dist folder>...");
  process.exit(2);
}

const POOL = 1024;
const BATCH = 5_000;
const secret = schemeName === "stripe" ? STRIPE_SECRET : GITHUB_SECRET;
const first = (await import(pathToFileURL(`${dists[0]}/index.js`).href)) as typeof Index;
const signer = schemeName === "stripe" ? first.stripe({ secret }) : first.github({ secret });
const requests: { body: Buffer; headers: Record<string, string> }[] = [];
for (let i = 0; i < POOL; i++) {
  const body = jsonEvent(1024, { id: `evt_ab${String(i).padStart(10, "0")}`, object: "event", type: "invoice.paid" });
  const signed = await first.signWebhook(body, signer, { id: `delivery-${i}`, type: "invoice.paid" });
  requests.push({ body, headers: { host: "127.0.0.1:3000", "user-agent": "ab", "content-length": String(body.length), connection: "keep-alive", ...signed } });
}

const raw = schemeName === "stripe" ? rawStripe(secret) : rawGitHub(secret);
// Receive mode: how many events each bundle's handler ran, to show every call was a new claim.
const handledBy = new Map<string, () => number>();
const subjects: [string, Call][] = [["raw limit", async (i) => raw(requests[i]!.body, requests[i]!.headers as RawHeaders)]];
for (const dist of dists) {
  const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
  const scheme = schemeName === "stripe" ? hg.stripe({ secret }) : hg.github({ secret });
  if (mode === "verify") {
    subjects.push([dist, (i) => hg.verifyWebhook(requests[i]!, scheme)]);
  } else {
    // The default key (the event's id) in a store of BENCH_STORE_ENTRIES keys: an event comes
    // back after POOL - 1 other claims, long after the full store let it go (bench-store.mjs).
    const receiver = hg.createWebhookReceiver({ scheme, store: hg.memoryStore({ maxEntries: BENCH_STORE_ENTRIES }) });
    let handled = 0;
    receiver.on("invoice.paid", () => void handled++);
    subjects.push([dist, (i) => receiver.receive({ ...requests[i]!, method: "POST", url: "/webhooks" })]);
    handledBy.set(dist, () => handled);
  }
}
for (const [name, call] of subjects) {
  // The pool's last event: the first batch then starts with new claims.
  const out = (await call(POOL - 1)) as { status?: number } | undefined;
  if (out === undefined || (mode === "receive" && name !== "raw limit" && out.status !== 200)) throw new Error(`${name}: the check call did not verify`);
}

const times = subjects.map((): number[] => []);
for (let round = 0; round < rounds + 3; round++) {
  for (let s = 0; s < subjects.length; s++) {
    const call = subjects[s]![1];
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) await call(i % POOL);
    if (round >= 3) times[s]!.push(Number(process.hrtime.bigint() - start) / 1e3 / BATCH);
  }
}
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`${schemeName} ${mode}, 1 KiB, ${rounds} rounds of ${BATCH} calls per subject`);
for (let s = 0; s < subjects.length; s++) {
  const ratios = times[s]!.map((t, k) => t / times[0]![k]!);
  console.log(`${subjects[s]![0].padEnd(28)} ${median(times[s]!).toFixed(2).padStart(7)} µs   ${median(ratios).toFixed(3)}× the raw limit (median of per-round ratios)`);
}
for (const [dist, handled] of handledBy) {
  const calls = (rounds + 3) * BATCH + 1;
  if (handled() !== calls) throw new Error(`${dist}: the handler ran ${handled()} times for ${calls} calls: some were not new claims`);
}
