// Prints the closing line CI reads, "N passed, N failed", from vitest's JSON report.
import { readFileSync } from "node:fs";

let report;
try {
  report = JSON.parse(readFileSync(new URL("../.vitest-results.json", import.meta.url), "utf8"));
} catch {
  console.log("0 passed, 1 failed");
  console.error("test-summary: no .vitest-results.json: the test run did not finish");
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A suite that failed to load counts as a failure even though it ran no test.
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
