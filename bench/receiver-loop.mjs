// The receiver in a loop, for callgrind, with nothing between runs that moves the count: plain
// JavaScript over a built dist/ (no tsx loader), V8's random seed fixed (`--random-seed`), the
// store's claims each a new key. Two runs of one build at 20,000 and 60,000 calls give the
// marginal instructions per event, the same on every run of that build in that folder; a
// different build, or the same one copied to another folder, can move it by ~600 (the
// heap's layout shifts when the collector runs). bench/instructions.sh --receiver's
// subject, run through tsx, moves by ±1k even between identical runs. Used by
// `bash bench/instructions.sh --receiver-loop`.
//
//   node --single-threaded --random-seed=7 bench/receiver-loop.mjs <dist> <calls> <raw|receiver>
//
// raw / receiver: the subjects of bench/receiver-subjects.mjs (the raw limit written out in
// plain JavaScript; the receiver with the default memory store and a new key per event),
// also timed by the clock in bench/receiver-wall.mjs. Counts before session 9 are not
// comparable: the subjects' keys then ended in `${n}` (see bench/unique-suffix.mjs).
import { pathToFileURL } from "node:url";
import { SECRET, rawLoop, receiverLoop, signedPool } from "./receiver-subjects.mjs";

const [dist = "dist", callsArg = "10000", mode = "receiver"] = process.argv.slice(2);
const calls = Number(callsArg);
const hg = await import(pathToFileURL(`${dist}/index.js`).href);
const scheme = hg.stripe({ secret: SECRET });
const pool = await signedPool(hg, scheme);

let handled;
if (mode === "raw") handled = rawLoop(pool)(calls);
else if (mode === "receiver") handled = await receiverLoop(hg, scheme, pool)(calls);
else throw new Error(`unknown mode ${mode}: raw or receiver`);
if (handled !== calls) throw new Error(`${handled} of ${calls} events handled`);
