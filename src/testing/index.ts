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
