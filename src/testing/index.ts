/**
 * The store conformance kit: proves that an idempotency store, yours or a built-in one,
 * keeps the contract the receiver relies on, against the real backend. Independent of any
 * test runner.
 *
 * ```ts
 * import { runStoreConformance, conformanceChecks } from "hookguard/testing";
 * ```
 *
 * @module hookguard/testing
 */
export {
  runStoreConformance,
  conformanceChecks,
  StoreConformanceError,
  StoreConformanceViolation,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceSummary,
  type StoreFactory,
} from "./conformance";
