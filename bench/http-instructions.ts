// The HTTP bench's servers under valgrind's callgrind: instructions per request, the
// figure a shared, noisy machine cannot move (req/s ratios in bench/http.ts swung from
// 0.70× to 1.01× between two runs of the same code here). Each server runs twice, answering
// a first and a second number of 1 KiB Stripe requests (4 connections, keep-alive); the
// difference over the extra requests is one request's marginal cost, start-up excluded.
// --single-threaded keeps the collector and the compiler on the counted thread.
//
//   npx tsx bench/http-instructions.ts                       node, limit and hookguard
//   npx tsx bench/http-instructions.ts --only=node,fastify --variants=limit,hookguard --requests=4000,10000
//
// About 2 minutes per server and framework (valgrind runs node some 50× slower).
import { spawn } from "node:child_process";
import http from "node:http";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { STRIPE_SECRET, jsonEvent } from "./fixtures";
import { bundleHookguard } from "./http";
import { FRAMEWORKS, PATH, VARIANTS, type Framework, type Variant } from "./http-server";

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const frameworks = (option("only")?.split(",") ?? ["node"]) as Framework[];
const variants = (option("variants")?.split(",") ?? ["limit", "hookguard"]) as Variant[];
const [first, second] = (option("requests") ?? "4000,10000").split(",").map(Number) as [number, number];
if (frameworks.some((f) => !FRAMEWORKS.includes(f)) || variants.some((v) => !VARIANTS.includes(v)) || !(first > 0 && second > first)) {
  console.error("usage: npx tsx bench/http-instructions.ts [--only=node,express,fastify,hono] [--variants=bare,limit,stripe-sdk,hookguard] [--requests=A,B with B > A]");
  process.exit(2);
}

const stripe = new Stripe("sk_test_x");
const bodies: Buffer[] = [];
for (let i = 0; i < 512; i++) bodies.push(jsonEvent(1024, { id: `evt_${String(i).padStart(12, "0")}`, object: "event", type: "invoice.paid" }));
// Signed as each request goes out (the client's cost is not counted): under valgrind a run
// can outlast Stripe's 300 s window, which would turn a pool signed up front stale.
const signed = (i: number) => {
  const body = bodies[i % bodies.length]!;
  return { body, signature: stripe.webhooks.generateTestHeaderString({ payload: body.toString("utf8"), secret: STRIPE_SECRET }) };
};

/** Runs one server under callgrind for `requests` requests; returns the instructions it executed. */
async function count(bundle: string, framework: Framework, variant: Variant, requests: number): Promise<number> {
  const out = join(tmpdir(), `hookguard-callgrind-${process.pid}-${framework}-${variant}-${requests}`);
  const server = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, process.execPath, "--single-threaded", "--import", "tsx", "bench/http-server.ts", framework, variant], {
    // stdin a pipe: the server exits when its stdin ends (its parent gone).
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, HOOKGUARD_HTTP_BUNDLE: bundle },
  });
  let stderr = "";
  server.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => server.on("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (c: Buffer) => {
      text += c.toString();
      if (text.includes("\n")) resolve(Number(text.split("\n")[0]));
    });
    void exited.then(() => reject(new Error(`${framework}/${variant} exited before listening:\n${stderr}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let sent = 0;
  let verified = 0;
  const worker = async () => {
    while (sent < requests) {
      const { body, signature } = signed(sent++);
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: PATH, method: "POST", agent, headers: { "content-type": "application/json", "stripe-signature": signature, "content-length": body.length } }, (res) => {
          if (res.statusCode === 200) verified++;
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end(body);
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  agent.destroy();
  server.kill("SIGTERM");
  await exited;
  rmSync(out, { force: true });
  if (verified !== requests && variant !== "bare") throw new Error(`${framework}/${variant}: ${verified} of ${requests} requests verified`);
  const total = /Collected : (\d+)/.exec(stderr)?.[1];
  if (total === undefined) throw new Error(`${framework}/${variant}: callgrind printed no total:\n${stderr}`);
  return Number(total);
}

const bundle = await bundleHookguard();
try {
  console.log(`Instructions per request (callgrind, ${first} → ${second} requests, 1 KiB Stripe events, ${process.version})\n`);
  console.log("| framework | server | instructions/request | × raw limit |\n|:--|:--|--:|--:|");
  for (const framework of frameworks) {
    const perRequest = new Map<Variant, number>();
    for (const variant of variants) {
      // The two counts of a server run side by side: one per core.
      const [a, b] = await Promise.all([count(bundle, framework, variant, first), count(bundle, framework, variant, second)]);
      perRequest.set(variant, (b - a) / (second - first));
    }
    const limit = perRequest.get("limit");
    for (const [variant, n] of perRequest) {
      console.log(`| ${framework} | ${variant} | ${Math.round(n).toLocaleString("en-US")} | ${limit === undefined ? "–" : `${(n / limit).toFixed(2)}×`} |`);
    }
  }
} finally {
  rmSync(bundle, { recursive: true, force: true });
}
