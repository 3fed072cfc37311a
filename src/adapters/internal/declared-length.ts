// The Content-Length a request declares, read the same way by the Node and Web adapters.

/**
 * A `Content-Length` as HTTP writes one — ASCII digits only — or `undefined`: a value such
 * as `1e3`, `0x10`, `12.5` or `""` (possible only on a Request built by code; a runtime's
 * HTTP parser refuses them) declares nothing, and the body is counted as it streams.
 * A loop, not `Number()`: a header value is a fresh string, and `Number()` of one leaves
 * JavaScript for the runtime.
 */
export function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value.length === 0) return undefined;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}
