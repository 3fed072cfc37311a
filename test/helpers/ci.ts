// One rule for "is this a CI run?", shared by the suites whose behaviour depends on it.

/** True when CI is set (to anything but "", "0" or "false"): then nothing may be skipped. */
export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}
