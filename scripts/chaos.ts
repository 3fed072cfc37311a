// `npm run chaos`: the full-size chaos run (docs/reliability.md), on Redis and then on
// PostgreSQL. Prints one report per backend and exits non-zero if any figure is off.
//
//   npm run chaos                              # 10,000 events × 3 deliveries, both stores
//   npm run chaos -- --backend redis --events 2000
//   npm run chaos -- --json chaos-report.json  # also write the reports as JSON
//
// Needs the Redis and PostgreSQL the tests use (127.0.0.1:6379 and :5432, or REDIS_URL /
// DATABASE_URL). All traffic stays on loopback; the servers themselves are never stopped:
// the outage is a TCP proxy in front of them.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FULL_SIZE, formatReport, runChaos, type Backend, type ChaosConfig, type ChaosReport } from "../test/chaos/harness";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "both" },
    events: { type: "string" },
    copies: { type: "string" },
    concurrency: { type: "string" },
    processes: { type: "string" },
    forged: { type: "string" },
    "lease-ms": { type: "string" },
    "outage-ms": { type: "string" },
    "retry-complete": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(
    "usage: npm run chaos -- [--backend redis|postgres|both] [--events N] [--copies N] [--concurrency N] [--processes N] [--forged N] [--lease-ms N] [--outage-ms N] [--retry-complete] [--json FILE]",
  );
  process.exit(0);
}

function int(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${raw}`);
    process.exit(2);
  }
  return v;
}

const backends: Backend[] = values.backend === "both" ? ["redis", "postgres"] : values.backend === "redis" || values.backend === "postgres" ? [values.backend] : [];
if (backends.length === 0) {
  console.error(`--backend must be redis, postgres or both, got ${values.backend}`);
  process.exit(2);
}

const size: Omit<ChaosConfig, "backend"> = {
  ...FULL_SIZE,
  events: int("events", values.events, FULL_SIZE.events, 1),
  copies: int("copies", values.copies, FULL_SIZE.copies, 1),
  concurrency: int("concurrency", values.concurrency, FULL_SIZE.concurrency, 1),
  processes: int("processes", values.processes, FULL_SIZE.processes, 3),
  forged: int("forged", values.forged, FULL_SIZE.forged, 0),
  leaseMs: int("lease-ms", values["lease-ms"], FULL_SIZE.leaseMs, 100),
  outageMs: int("outage-ms", values["outage-ms"], FULL_SIZE.outageMs, 1),
  retryComplete: values["retry-complete"],
  log: (line) => console.log(line),
};

const reports: ChaosReport[] = [];
for (const backend of backends) {
  const report = await runChaos({ ...size, backend });
  reports.push(report);
  console.log(formatReport(report));
  console.log();
}
if (values.json) writeFileSync(values.json, JSON.stringify(reports, null, 2) + "\n");

const off = reports.reduce((n, r) => n + r.failures.length, 0);
console.log(off === 0 ? `chaos: every figure as it should be on ${backends.join(" and ")}` : `chaos: ${off} figure(s) off`);
process.exit(off === 0 ? 0 : 1);
