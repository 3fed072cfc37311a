// Registers the conformance kit as vitest tests: one test per rule, so a failure names its
// rule in the report, plus one run of the whole kit through runStoreConformance.
import { expect, it } from "vitest";
import { conformanceChecks, runStoreConformance, type ConformanceOptions, type StoreFactory } from "../../src/testing/index";

export function itKeepsTheStoreContract(factory: StoreFactory, options?: ConformanceOptions): void {
  for (const check of conformanceChecks) {
    it(`${check.id}: ${check.rule}`, () => check.run(factory, options));
  }
  it("passes runStoreConformance as a whole", async () => {
    const summary = await runStoreConformance(factory, options);
    expect(summary.passed).toEqual(conformanceChecks.map((c) => c.id));
    expect(summary.checks).toBe(conformanceChecks.length);
  });
}
