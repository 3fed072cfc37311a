// The receiver against the raw limit by the clock, in one process: blocks of events run in
// turn (raw limit, receiver without a store, receiver with the default memory store; every
// other round in reverse), so whatever the machine does in those seconds lands on all three
// alike. Reports each subject's median ns per event and its ratio to the raw limit.
//
//   npm run build && node bench/receiver-wall.mjs [dist] [rounds=30] [block=10000]
//
// Why beside bench/receiver-loop.mjs's instruction count: instructions are not time. The
// HMAC runs on SHA extensions (few instructions, many cycles), while hookguard's own work is
// JavaScript and memory: a hash table of 100,000 keys misses the cache, which callgrind does
// not count. Session 9: the count put the receiver at 1.065× the raw limit; the clock, over
// five runs, at 1.13-1.27× with the store and 1.03-1.07× without (a run's ratio moves by a
// few hundredths: compare changes over several runs).
import { pathToFileURL } from "node:url";
import { SECRET, rawLoop, receiverLoop, signedPool } from "./receiver-subjects.mjs";

const [dist = "dist", roundsArg = "30", blockArg = "10000"] = process.argv.slice(2);
const hg = await import(pathToFileURL(`${dist}/index.js`).href);
const scheme = hg.stripe({ secret: SECRET });
const pool = await signedPool(hg, scheme);
const subjects = {
  raw: rawLoop(pool),
  "no store": receiverLoop(hg, scheme, pool, { store: false }),
  receiver: receiverLoop(hg, scheme, pool),
  // Sessions 1-14's receiver: the default store of 100,000 keys, claims keyed `${id}/${n}`.
  "old key": receiverLoop(hg, scheme, pool, { legacyKey: true }),
};
const names = Object.keys(subjects);
const block = Number(blockArg);
const times = Object.fromEntries(names.map((n) => [n, []]));
for (const n of names) await subjects[n](block); // warm-up
for (let round = 0; round < Number(roundsArg); round++) {
  for (const n of round % 2 === 1 ? [...names].reverse() : names) {
    const t0 = process.hrtime.bigint();
    const handled = await subjects[n](block);
    times[n].push(Number(process.hrtime.bigint() - t0) / block);
    if (handled !== block) throw new Error(`${n}: ${handled} of ${block} events handled`);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const raw = median(times.raw);
console.log(`${process.version}, ${Number(roundsArg)} rounds of ${block} events each, 1 KiB Stripe events`);
for (const n of names) console.log(`${n.padEnd(9)} ${median(times[n]).toFixed(0).padStart(6)} ns/event  ${(median(times[n]) / raw).toFixed(3)}× the raw limit`);
