// The CI-sized chaos run (docs/reliability.md; `npm run chaos` is the full size): three
// receiver processes over real loopback HTTP share one store, a provider delivers every
// event three times, concurrently and out of order, retrying with backoff, while one
// receiver is SIGKILLed mid-handler, the store is cut off for two seconds, a fifth of the
// handlers fail their first attempt and a flood of forged requests arrives. PostgreSQL, not
// the code under test, counts what ran.
//
// Locally an unreachable Redis or PostgreSQL skips (with a message); with CI set it fails.
// HOOKGUARD_CHAOS_REPORT=1 prints the whole report of a passing run too.
import { describe, expect, it } from "vitest";
import { postgresAvailable, redisAvailable } from "../helpers/services";
import { CI_SIZE, formatReport, runChaos } from "./harness";

for (const backend of ["redis", "postgres"] as const) {
  describe(`chaos run on the ${backend} store`, async () => {
    const ready = (await postgresAvailable()) && (backend === "postgres" || (await redisAvailable()));

    it.skipIf(!ready)(
      `${CI_SIZE.events} events × ${CI_SIZE.copies} deliveries under a kill, a store outage, first-attempt failures and forged requests: each processed exactly once`,
      async () => {
        const report = await runChaos({ ...CI_SIZE, backend });
        const text = formatReport(report);
        if (process.env.HOOKGUARD_CHAOS_REPORT) console.log(text);
        // The figures one by one, so a failure names the first one off; the whole report
        // (with the events that ran twice, and when) is the message.
        expect(report.deliveries.acknowledged, text).toBe(report.deliveries.total);
        expect(report.events.lost, text).toBe(0);
        expect(report.events.processedTwice, text).toBe(0);
        expect(report.events.exactlyOnce, text).toBe(CI_SIZE.events);
        expect(report.events.acknowledgedBeforeProcessed, text).toBe(0);
        expect(report.faults.kill?.killedMidHandler, text).toBeGreaterThan(0);
        expect(report.faults.outage?.answered503, text).toBeGreaterThan(0);
        expect(report.faults.forged.answered2xx, text).toBe(0);
        expect(report.faults.forged.handlerRuns, text).toBe(0);
        expect(report.faults.forged.storeKeys, text).toBe(0);
        expect(report.failures, text).toEqual([]);
      },
      120_000,
    );
  });
}
