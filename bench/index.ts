// Verification bench: hookguard against the raw limit (hand-written node:crypto) and the
// providers' own SDKs, for 1, 16 and 256 KiB JSON bodies, plus the reject paths.
//
//   npm run bench                 print the tables
//   npm run bench -- --write      also write them into docs/benchmarks.md
//   npm run bench -- --quick      fewer, shorter samples (a smoke run; numbers are rougher)
//   npm run bench -- --only=stripe,github
//   npm run bench -- --only=stores        (or providers): the store or provider tables alone
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Webhooks as OctokitWebhooks } from "@octokit/webhooks";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import type { VerifyOutcome, WebhookScheme } from "../src/types";
import { buildSubject, type Subject } from "./build";
import { GITHUB_SECRET, STANDARD_SECRET, STRIPE_SECRET, jsonEvent, signFixture, type SignedFixture } from "./fixtures";
import { measure, ratio, type HarnessOptions, type Measurement, type Task } from "./harness";
import { rawGitHub, rawStandardWebhooks, rawStripe, type RawVerifier } from "./raw";
import * as fromSource from "./subject";

const args = process.argv.slice(2);
const write = args.includes("--write");
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const harness: HarnessOptions = quick ? { samples: 7, sampleMs: 40, warmupMs: 150 } : { samples: 15, sampleMs: 80, warmupMs: 400 };

const SIZES = [1024, 16 * 1024, 256 * 1024] as const;
const RAW = "raw limit (node:crypto by hand)";

interface Scheme {
  readonly key: "stripe" | "github" | "standard-webhooks";
  readonly title: string;
  /** The scheme from the bundled build: what the hookguard rows run. */
  readonly scheme: WebhookScheme<unknown>;
  /** The same scheme from src/ through tsx. */
  readonly sourceScheme: WebhookScheme<unknown>;
  readonly raw: RawVerifier;
  readonly signatureHeader: string;
  /** A value in the header's shape that no decoder accepts. */
  readonly malformed: string;
  fixture(size: number): Promise<SignedFixture>;
  /** The same fixture with a well-formed signature of another secret. */
  wrong(size: number): Promise<SignedFixture>;
  peers(f: SignedFixture): Task[];
}

function expectEvent(value: unknown, label: string): void {
  if (typeof value !== "object" || value === null || typeof (value as { id?: unknown }).id !== "string") throw new Error(`${label}: did not return the parsed event`);
}

function hookguardTasks(hg: Subject, s: Scheme, f: SignedFixture): Task[] {
  const { verifyRequest, verifyWebhook } = hg;
  const request = { body: f.body, headers: f.headers };
  // The same call on src/ as tsx runs it (every closure wrapped by its keepNames helper).
  const sourceScheme = s.sourceScheme;
  return [
    {
      name: "hookguard verifyWebhook",
      kind: "async",
      run: () => verifyWebhook(request, s.scheme),
      check: async () => expectEvent((await verifyWebhook(request, s.scheme)).payload, "verifyWebhook"),
    },
    {
      name: "hookguard verifyRequest (no throw)",
      kind: "sync",
      run: () => verifyRequest(request, s.scheme),
      check: async () => {
        const o = await verifyRequest(request, s.scheme);
        if (!o.ok) throw new Error(`verifyRequest: ${o.code}`);
        expectEvent(o.webhook.payload, "verifyRequest");
      },
    },
    {
      name: "hookguard verifyWebhook, src/ via tsx",
      kind: "async",
      run: () => fromSource.verifyWebhook(request, sourceScheme),
      check: async () => expectEvent((await fromSource.verifyWebhook(request, sourceScheme)).payload, "verifyWebhook (tsx)"),
    },
  ];
}

function rawTask(s: Scheme, f: SignedFixture): Task {
  return { name: RAW, kind: "sync", run: () => s.raw(f.body, f.headers), check: () => expectEvent(s.raw(f.body, f.headers), RAW) };
}

const stripeClient = new Stripe("sk_test_hookguard_bench");
const octokit = new OctokitWebhooks({ secret: GITHUB_SECRET });
const standardPeer = new StandardWebhook(STANDARD_SECRET);
const svixPeer = new SvixWebhook(STANDARD_SECRET);

function schemes(hg: Subject): Scheme[] {
  return [
  {
    key: "stripe",
    title: "Stripe",
    scheme: hg.stripe({ secret: STRIPE_SECRET }) as WebhookScheme<unknown>,
    sourceScheme: fromSource.stripe({ secret: STRIPE_SECRET }) as WebhookScheme<unknown>,
    raw: rawStripe(STRIPE_SECRET),
    signatureHeader: "stripe-signature",
    malformed: "t=1700000000,v1=not-hex",
    fixture: (size) => signFixture(jsonEvent(size, { id: "evt_1QbenchAbCdEf", object: "event", type: "invoice.paid", api_version: "2024-06-20", created: 1_700_000_000 }), fromSource.stripe({ secret: STRIPE_SECRET }) as WebhookScheme<unknown>),
    wrong: (size) => signFixture(jsonEvent(size, { id: "evt_1QbenchAbCdEf", type: "invoice.paid" }), fromSource.stripe({ secret: "whsec_other" }) as WebhookScheme<unknown>),
    peers: (f) => [
      {
        name: "stripe constructEvent",
        kind: "sync",
        run: () => stripeClient.webhooks.constructEvent(f.body, f.headers["stripe-signature"]!, STRIPE_SECRET),
        check: () => expectEvent(stripeClient.webhooks.constructEvent(f.body, f.headers["stripe-signature"]!, STRIPE_SECRET), "stripe"),
      },
    ],
  },
  {
    key: "github",
    title: "GitHub",
    scheme: hg.github({ secret: GITHUB_SECRET }) as WebhookScheme<unknown>,
    sourceScheme: fromSource.github({ secret: GITHUB_SECRET }) as WebhookScheme<unknown>,
    raw: rawGitHub(GITHUB_SECRET),
    signatureHeader: "x-hub-signature-256",
    malformed: "sha256=not-hex",
    fixture: (size) =>
      signFixture(jsonEvent(size, { id: "push-1", action: "synchronize", ref: "refs/heads/main" }), fromSource.github({ secret: GITHUB_SECRET }) as WebhookScheme<unknown>, {
        "x-github-event": "push",
        "x-github-hook-id": "4242",
      }, "6f1c2a90-0b6e-11ef-8f3a-5a1b2c3d4e5f"),
    wrong: (size) => signFixture(jsonEvent(size, { id: "push-1" }), fromSource.github({ secret: "other" }) as WebhookScheme<unknown>, { "x-github-event": "push" }, "6f1c2a90-0b6e-11ef-8f3a-5a1b2c3d4e5f"),
    peers: (f) => [
      {
        // Octokit takes the payload as a string, so it is decoded once and that string parsed.
        name: "@octokit/webhooks verify + JSON.parse",
        kind: "async",
        run: async () => {
          const text = f.body.toString("utf8");
          if (!(await octokit.verify(text, f.headers["x-hub-signature-256"]!))) throw new Error("octokit: bad signature");
          return JSON.parse(text) as unknown;
        },
        check: async () => {
          const text = f.body.toString("utf8");
          if (!(await octokit.verify(text, f.headers["x-hub-signature-256"]!))) throw new Error("octokit: bad signature");
          expectEvent(JSON.parse(text), "octokit");
        },
      },
    ],
  },
  {
    key: "standard-webhooks",
    title: "Standard Webhooks",
    scheme: hg.standardWebhooks({ secret: STANDARD_SECRET }) as WebhookScheme<unknown>,
    sourceScheme: fromSource.standardWebhooks({ secret: STANDARD_SECRET }) as WebhookScheme<unknown>,
    raw: rawStandardWebhooks(STANDARD_SECRET),
    signatureHeader: "webhook-signature",
    malformed: "v1,not base64!",
    fixture: (size) => signFixture(jsonEvent(size, { id: "evt_sw_1", type: "user.created", timestamp: "2024-01-01T00:00:00Z" }), fromSource.standardWebhooks({ secret: STANDARD_SECRET }) as WebhookScheme<unknown>, {}, "msg_2bench5f1c2a9e7d3b4c6a8e0f"),
    wrong: (size) => signFixture(jsonEvent(size, { id: "evt_sw_1", type: "user.created" }), fromSource.standardWebhooks({ secret: `whsec_${Buffer.from("another-secret-of-32-bytes-long!").toString("base64")}` }) as WebhookScheme<unknown>, {}, "msg_2bench5f1c2a9e7d3b4c6a8e0f"),
    peers: (f) => [
      { name: "standardwebhooks Webhook.verify", kind: "sync", run: () => standardPeer.verify(f.body, f.headers), check: () => expectEvent(standardPeer.verify(f.body, f.headers), "standardwebhooks") },
      { name: "svix Webhook.verify", kind: "sync", run: () => svixPeer.verify(f.body, f.headers), check: () => expectEvent(svixPeer.verify(f.body, f.headers), "svix") },
    ],
  },
  ];
}

// --- reject paths -------------------------------------------------------------------

function rejectTasks(hg: Subject, s: Scheme, valid: SignedFixture, wrong: SignedFixture): Task[] {
  const { verifyRequest, verifyWebhook } = hg;
  const missing = { ...valid.headers };
  delete missing[s.signatureHeader];
  const cases: [label: string, code: string, request: { body: Buffer; headers: Record<string, string> }][] = [
    ["missing header", "missing_header", { body: valid.body, headers: missing }],
    ["malformed header", "malformed_header", { body: valid.body, headers: { ...valid.headers, [s.signatureHeader]: s.malformed } }],
    ["wrong signature", "signature_mismatch", { body: wrong.body, headers: wrong.headers }],
  ];
  const validRequest = { body: valid.body, headers: valid.headers };
  const tasks: Task[] = [
    {
      name: "verifyRequest: valid (reference)",
      kind: "sync",
      run: () => verifyRequest(validRequest, s.scheme),
      check: async () => {
        const o = await verifyRequest(validRequest, s.scheme);
        if (!o.ok) throw new Error(`valid fixture failed: ${o.code}`);
      },
    },
  ];
  for (const [label, code, request] of cases) {
    tasks.push({
      name: `verifyRequest: ${label}`,
      kind: "sync",
      run: () => verifyRequest(request, s.scheme),
      check: async () => {
        const o: VerifyOutcome<unknown> = await verifyRequest(request, s.scheme);
        if (o.ok || o.code !== code) throw new Error(`${label}: expected ${code}, got ${o.ok ? "ok" : o.code}`);
      },
    });
  }
  for (const [label, code, request] of cases) {
    tasks.push({
      name: `verifyWebhook (throws): ${label}`,
      kind: "async",
      run: () => verifyWebhook(request, s.scheme),
      check: async () => {
        const got = await verifyWebhook(request, s.scheme).then(
          () => "ok",
          (e: { code?: string }) => e.code,
        );
        if (got !== code) throw new Error(`${label}: expected ${code}, got ${got}`);
      },
    });
  }
  return tasks;
}

// --- tables -------------------------------------------------------------------------

function kib(bytes: number): string {
  return `${bytes / 1024} KiB`;
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ("l" | "r")[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (align[i] === "r" ? c.padStart(Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))) : c.padEnd(Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))))).join(" | ")} |`;
  const rule = `|${head.map((h, i) => (align[i] === "r" ? "-".repeat(Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 1) + ":" : ":" + "-".repeat(Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 1))).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

interface VerifyRow {
  readonly scheme: string;
  readonly size: number;
  readonly m: Measurement;
  readonly raw: Measurement;
}

interface RejectRow {
  readonly scheme: string;
  readonly m: Measurement;
  readonly reference: Measurement;
}

const VERIFY_TARGET = 1.1;
const REJECT_TARGET = 0.25;

function verifyTable(rows: readonly VerifyRow[]): string {
  return table(
    ["scheme", "body", "implementation", "ops/s", "µs/op", "× raw limit", "spread", "CPU µs/op"],
    rows.map((r) => [r.scheme, kib(r.size), r.m.name, fmt(r.m.opsPerSecond, 0), fmt(r.m.nsPerOp / 1000, 2), `${fmt(ratio(r.m, r.raw), 2)}×`, `±${fmt(r.m.spreadPercent / 2, 0)}%`, fmt(r.m.cpuNsPerOp / 1000, 2)]),
    ["l", "r", "l", "r", "r", "r", "r", "r"],
  );
}

function rejectTable(rows: readonly RejectRow[]): string {
  return table(
    ["scheme", "path (1 KiB body)", "ops/s", "µs/op", "× valid verifyRequest", "spread", "CPU µs/op"],
    rows.map((r) => [r.scheme, r.m.name, fmt(r.m.opsPerSecond, 0), fmt(r.m.nsPerOp / 1000, 2), `${fmt(ratio(r.m, r.reference), 2)}×`, `±${fmt(r.m.spreadPercent / 2, 0)}%`, fmt(r.m.cpuNsPerOp / 1000, 2)]),
    ["l", "l", "r", "r", "r", "r", "r"],
  );
}

function targets(verify: readonly VerifyRow[], reject: readonly RejectRow[]): string {
  const lines: string[] = [];
  for (const r of verify.filter((v) => v.m.name === "hookguard verifyWebhook")) {
    const x = ratio(r.m, r.raw);
    lines.push(`- ${x <= VERIFY_TARGET ? "met" : "MISSED"}: ${r.scheme} ${kib(r.size)} verify+parse at ${fmt(x, 2)}× the raw limit (target ≤ ${VERIFY_TARGET}×)`);
  }
  for (const r of reject.filter((v) => /verifyRequest: (missing|malformed)/.test(v.m.name))) {
    const x = ratio(r.m, r.reference);
    lines.push(`- ${x <= REJECT_TARGET ? "met" : "MISSED"}: ${r.scheme} ${r.m.name.replace("verifyRequest: ", "")} rejected at ${fmt(x, 2)}× a valid 1 KiB verify, non-throwing path (target ≤ ${REJECT_TARGET}×)`);
  }
  return lines.join("\n");
}

function machine(): string {
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
    } catch {
      return cpus()[0]?.model ?? "unknown";
    }
  })();
  const node = execFileSync(process.execPath, ["--version"], { encoding: "utf8" }).trim();
  return `Node ${node} on ${cpu} (${cpus().length} cores), ${process.platform}/${process.arch}`;
}

// --- main ---------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) console.warn("note: run with --expose-gc (npm run bench does) so samples start from a collected heap");
  const started = new Date();
  const loadBefore = loadavg();
  const verifyRows: VerifyRow[] = [];
  const rejectRows: RejectRow[] = [];

  const hg = await buildSubject().catch((error: unknown) => {
    console.warn(`note: bundling hookguard failed (${String(error)}); measuring src/ through tsx instead`);
    return fromSource;
  });
  for (const s of schemes(hg).filter((x) => !only || only.includes(x.key))) {
    for (const size of SIZES) {
      // Signed right before the group runs: the window is ±300 s.
      const f = await s.fixture(size);
      const tasks = [rawTask(s, f), ...hookguardTasks(hg, s, f), ...s.peers(f)];
      const results = await measure(tasks, harness);
      const raw = results[0]!;
      for (const m of results) verifyRows.push({ scheme: s.title, size, m, raw });
      console.log(verifyTable(verifyRows.filter((r) => r.scheme === s.title && r.size === size)) + "\n");
    }
    const results = await measure(rejectTasks(hg, s, await s.fixture(1024), await s.wrong(1024)), harness);
    for (const m of results) rejectRows.push({ scheme: s.title, m, reference: results[0]! });
    console.log(rejectTable(rejectRows.filter((r) => r.scheme === s.title)) + "\n");
  }

  const loadAfter = loadavg();
  const command = `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`;
  const report = [
    `Machine: ${machine()}`,
    `Date: ${started.toISOString()}`,
    `Command: \`${command}\` (node --expose-gc --import tsx bench/index.ts)`,
    `Load average (1 min) before/after: ${fmt(loadBefore[0]!, 2)} / ${fmt(loadAfter[0]!, 2)} — the machine is shared. µs/op is wall-clock time per operation, the median of ${harness.samples} samples per row taken round-robin across the rows of a group; "× raw limit" is the median of the per-round ratios; spread is half the interquartile range of the samples over the median; "CPU µs/op" is the process's CPU time (all threads, GC helpers included).`,
    "",
    "### Verify + parse (valid request, Buffer body)",
    "",
    verifyTable(verifyRows),
    "",
    "### Reject paths",
    "",
    rejectTable(rejectRows),
    "",
    "### Targets",
    "",
    targets(verifyRows, rejectRows),
  ].join("\n");
  console.log(report.split("### Targets")[0]!.split("\n").slice(0, 4).join("\n"));
  console.log("\nTargets:\n" + targets(verifyRows, rejectRows));

  if (write) {
    const path = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));
    writeFileSync(path, updateDoc(existsSync(path) ? readFileSync(path, "utf8") : "", report));
    console.log(`\nwrote ${path}`);
  }
}

const START = "<!-- bench:verify:start (written by `npm run bench -- --write`) -->";
const END = "<!-- bench:verify:end -->";

/** Replaces only the generated section, so prose around it (and other benches' sections) stays. */
function updateDoc(doc: string, report: string): string {
  const section = `${START}\n${report}\n${END}`;
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a >= 0 && b > a) return doc.slice(0, a) + section + doc.slice(b + END.length);
  return `${doc.trimEnd()}${doc.trim() ? "\n\n" : ""}${section}\n`;
}

await main();

// The other benches of the same run: the idempotency stores (claim + complete per event,
// round trips counted) and one provider scheme of each family against its official SDK.
// --only=stores / --only=providers run just those; --only=<scheme> skips them.
if (!only || only.includes("stores")) {
  const { benchStores, formatStoreBench } = await import("./stores");
  console.log("\n## Idempotency stores: claim + complete per event\n");
  console.log(formatStoreBench(await benchStores({ harness, throughputMs: quick ? 500 : 2_000 })));
}
if (!only || only.includes("providers")) {
  const { benchProviders, formatProviderRows } = await import("./providers");
  console.log("\n## One scheme of each family against its official SDK\n");
  console.log(formatProviderRows(await benchProviders(harness)));
}
