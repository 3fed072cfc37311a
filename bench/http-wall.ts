// Whole HTTP requests by the clock, in one process, without sockets: for each framework, the
// raw-limit server and one or more hookguard servers (bench/http-server.ts's, the same
// code autocannon loads over loopback) are driven in turn, in blocks of requests over
// in-memory connections (4 keep-alive connections in step, as `--memory` does), every
// other round in reverse order. Each server is reported as the median over rounds of its
// time per request, and of its ratio to the limit's block in the same round: whatever the
// machine does in those seconds lands on both sides of a ratio alike.
//
//   npx tsx bench/http-wall.ts [--only=node,fastify] [--rounds=20] [--block=4000] [--bundle=DIR]... [--no-store] [--store=N]... [--verify]
//
// --store=N (repeatable): each bundle's server also with a memoryStore of at most N entries
// and claims keyed `${event.id}/${n}` (HOOKGUARD_HTTP_STORE=N; the default server's store
// holds 128 keys under the default key, the event's id), to tell the store's cache misses,
// which grow with its size, from its instructions, which do not; --store=100000 is the
// server of sessions 1-14.
// --bundle=DIR (repeatable): hookguard bundles to compare (bench/http.ts's bundleHookguard
// layout: index.mjs, node.mjs, … in DIR), e.g. one built from main and one from a change;
// without it, one bundle built from src/ now. --no-store: each bundle's server also without
// its idempotency store (HOOKGUARD_HTTP_STORE=none), to split the store's share. --verify:
// each bundle's `verifyWebhook` server too (HOOKGUARD_HTTP_API=verify: the limit's job, verify
// and parse, through the route-handler wrapper). The HTTP parser, the framework and the
// handler run as they do over loopback; the kernel's share (sockets, syscalls; ~20 µs of a
// 60 µs request there) does not, so the ratios here are of the part the code owns.
// Session 10: loopback's single rounds swung 0.56×–1.52× on unchanged code; here a
// round's ratio moves by a few hundredths.
import type { Server } from "node:http";
import { FRAMEWORKS, createBenchServer, exchangeInMemory, type Framework } from "./http-server";
import { bundleHookguard } from "./http";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const only = option("only", FRAMEWORKS.join(",")).split(",");
const rounds = Number(option("rounds", "20"));
const block = Number(option("block", "4000"));
const withoutStore = args.includes("--no-store");
const verify = args.includes("--verify");
const storeSizes = args.filter((a) => a.startsWith("--store=")).map((a) => Number(a.slice("--store=".length)));
const bundles = args.filter((a) => a.startsWith("--bundle=")).map((a) => a.slice("--bundle=".length));
if (!only.every((f) => (FRAMEWORKS as readonly string[]).includes(f)) || !(rounds > 0) || !(block > 0) || !storeSizes.every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error(`usage: npx tsx bench/http-wall.ts [--only=${FRAMEWORKS.join(",")}] [--rounds=N] [--block=N] [--bundle=DIR]... [--no-store] [--store=N]... [--verify]`);
  process.exit(2);
}
if (bundles.length === 0) bundles.push(await bundleHookguard());

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** A hookguard server of the current bundle, created with one bench-server setting (an env variable) set. */
async function hookguardWith(framework: Framework, setting: "HOOKGUARD_HTTP_STORE" | "HOOKGUARD_HTTP_API", value: string): Promise<Server> {
  process.env[setting] = value;
  try {
    return await createBenchServer(framework, "hookguard");
  } finally {
    delete process.env[setting];
  }
}

async function subjects(framework: Framework): Promise<[string, Server][]> {
  const out: [string, Server][] = [["raw limit", await createBenchServer(framework, "limit")]];
  for (const [i, dir] of bundles.entries()) {
    process.env.HOOKGUARD_HTTP_BUNDLE = dir;
    const name = bundles.length === 1 ? "hookguard" : `hookguard ${String.fromCharCode(65 + i)}`;
    out.push([name, await createBenchServer(framework, "hookguard")]);
    if (withoutStore) out.push([`${name} no store`, await hookguardWith(framework, "HOOKGUARD_HTTP_STORE", "none")]);
    for (const size of storeSizes) out.push([`${name} store ${size}`, await hookguardWith(framework, "HOOKGUARD_HTTP_STORE", String(size))]);
    if (verify) out.push([`${name} verifyWebhook`, await hookguardWith(framework, "HOOKGUARD_HTTP_API", "verify")]);
  }
  return out;
}

console.log(`${process.version}, in-memory connections, ${rounds} rounds of ${block} requests per server, 1 KiB Stripe events`);
for (const [i, dir] of bundles.entries()) if (bundles.length > 1) console.log(`  hookguard ${String.fromCharCode(65 + i)}: ${dir}`);
for (const framework of only as Framework[]) {
  const servers = await subjects(framework);
  const times = new Map<string, number[]>(servers.map(([name]) => [name, []]));
  const ratios = new Map<string, number[]>(servers.map(([name]) => [name, []]));
  for (const [, server] of servers) await exchangeInMemory(server, block); // warm-up
  for (let round = 0; round < rounds; round++) {
    const perRequest = new Map<string, number>();
    for (const [name, server] of round % 2 === 1 ? [...servers].reverse() : servers) {
      const t0 = process.hrtime.bigint();
      await exchangeInMemory(server, block);
      perRequest.set(name, Number(process.hrtime.bigint() - t0) / block / 1000);
    }
    for (const [name] of servers) {
      times.get(name)!.push(perRequest.get(name)!);
      ratios.get(name)!.push(perRequest.get("raw limit")! / perRequest.get(name)!);
    }
  }
  for (const [name] of servers) {
    const r = ratios.get(name)!;
    const spread = name === "raw limit" ? "" : `  (rounds ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
    console.log(`${framework.padEnd(8)} ${name.padEnd(24)} ${median(times.get(name)!).toFixed(2).padStart(7)} µs/request  ${median(r).toFixed(3)}× the limit's req/s${spread}`);
  }
}
process.exit(0);
