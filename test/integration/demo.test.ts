// The README's first command must keep working: the demo runs, prints its table, exits 0.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("npm run demo shows each delivery's outcome and exits 0", () => {
  const demo = fileURLToPath(new URL("../../demo/index.ts", import.meta.url));
  const run = spawnSync(process.execPath, ["--import", "tsx", demo], { encoding: "utf8", timeout: 60_000 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  for (const outcome of ["processed", "duplicate", "in_progress", "signature_mismatch", "timestamp_too_old", "handler_failed"]) {
    expect(run.stdout).toContain(outcome);
  }
}, 90_000);
