// How many runs the verification properties get: HOOKGUARD_FC_RUNS when set, else 10,000
// in CI, else 200; and their timeouts, which grow with it.
import { describe, expect, it } from "vitest";
import { isCI } from "../helpers/ci";
import { CI_RUNS, LOCAL_RUNS, NUM_RUNS, propTimeout, readRuns } from "./support";

describe("fast-check runs per verification property", () => {
  it("are HOOKGUARD_FC_RUNS when set (any positive integer), else 10,000 in CI, else 200", () => {
    expect(CI_RUNS).toBe(10_000);
    expect(LOCAL_RUNS).toBe(200);
    expect(readRuns({}, true)).toBe(10_000);
    expect(readRuns({}, false)).toBe(200);
    expect(readRuns({ HOOKGUARD_FC_RUNS: "" }, true)).toBe(10_000);
    expect(readRuns({ HOOKGUARD_FC_RUNS: "100000" }, true)).toBe(100_000);
    expect(readRuns({ HOOKGUARD_FC_RUNS: "3" }, false)).toBe(3);
    for (const bad of ["0", "-5", "1.5", "1e4", "0x10", " 12", "ten", "99999999999999999999"]) {
      expect(() => readRuns({ HOOKGUARD_FC_RUNS: bad }, true), bad).toThrow(/HOOKGUARD_FC_RUNS must be a positive integer/);
    }
  });

  it("are at least 10,000 in this run when CI is set and HOOKGUARD_FC_RUNS is not", () => {
    if (isCI() && !process.env.HOOKGUARD_FC_RUNS) expect(NUM_RUNS).toBeGreaterThanOrEqual(10_000);
  });

  it("give each property a timeout of three times its measured cost, never under vitest's 30 s", () => {
    expect(propTimeout(0)).toBe(30_000);
    expect(propTimeout(1)).toBe(Math.max(30_000, 3 * NUM_RUNS));
    expect(propTimeout(2)).toBeGreaterThanOrEqual(propTimeout(1));
  });
});
