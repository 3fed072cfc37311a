// Properties of what hookguard/bullmq writes to Redis, without Redis: job ids are valid for
// BullMQ and injective over every UTF-16 string; job data survives BullMQ's JSON exactly.
// (Through the real Redis: bullmq.test.ts.) Runs: HOOKGUARD_FC_RUNS (default 500).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { VerifiedWebhook, WebhookJob } from "../../src/index";
import { decodeJob, encodeJob } from "../../src/queues/internal/job-data";
import { jobIdFor, keyFromJobId } from "../../src/queues/internal/job-id";

const runs = Number(process.env.HOOKGUARD_FC_RUNS || 500);

/** Any UTF-16 string, lone surrogates, ':' and '%' included (and likely). */
const anyKey = fc.array(fc.oneof(fc.constantFrom(0x25, 0x3a, 0x30, 0x2d, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xd83d, 0xde80), fc.integer({ min: 0, max: 0xffff })), { maxLength: 24 }).map((units) => String.fromCharCode(...units));

/** Does Redis (which stores key names as UTF-8) keep this string as it is? */
function survivesUtf8(s: string): boolean {
  return Buffer.from(s, "utf8").toString("utf8") === s;
}

/** BullMQ's own checks on a custom job id (Job#validateOptions). */
function bullmqAccepts(id: string): boolean {
  return id !== "" && `${Number.parseInt(id, 10)}` !== id && !id.includes(":");
}

describe("hookguard/bullmq job ids", () => {
  it("are accepted by BullMQ, survive Redis, and decode back to their key", () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        const id = jobIdFor(key);
        expect(bullmqAccepts(id)).toBe(true);
        expect(survivesUtf8(id)).toBe(true);
        expect(keyFromJobId(id)).toBe(key);
      }),
      { numRuns: runs },
    );
  });

  it("differ for different keys, even after Redis's UTF-8 encoding", () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        fc.pre(a !== b);
        expect(Buffer.from(jobIdFor(a), "utf8").equals(Buffer.from(jobIdFor(b), "utf8"))).toBe(false);
      }),
      { numRuns: runs },
    );
  });

  it("stay readable: only '%', ':' and lone surrogates are escaped", () => {
    expect(jobIdFor("stripe:evt_1NXWPo2eZvKYlo2C")).toBe("hg_stripe%3Aevt_1NXWPo2eZvKYlo2C");
    expect(jobIdFor("github:8f2c-11ee 🚀")).toBe("hg_github%3A8f2c-11ee 🚀");
    expect(jobIdFor("a%b\ud800")).toBe("hg_a%25b%uD800");
    expect(jobIdFor("123")).toBe("hg_123");
    expect(keyFromJobId("42")).toBeUndefined();
    expect(keyFromJobId("hg_a%zz")).toBeUndefined();
  });
});

/** The values a scheme can put in an event: JSON's, and what JSON cannot carry back. */
const value = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withDate: true,
  withNullPrototype: true,
  withTypedArray: false,
  withMap: false,
  withSet: false,
  withBoxedValues: false,
  withObjectString: false,
  withSparseArray: false,
  key: fc.oneof(fc.string(), fc.constantFrom("$hg", "__proto__", "v", "constructor")),
});

const event: fc.Arbitrary<VerifiedWebhook<unknown>> = fc.record({
  id: fc.option(fc.string(), { nil: undefined }),
  type: fc.option(fc.string(), { nil: undefined }),
  timestamp: fc.option(fc.date(), { nil: undefined }),
  payload: value,
  rawBody: fc.oneof(
    fc.string({ unit: "binary" }),
    fc.uint8Array().map((b) => Buffer.from(b)),
    fc.uint8Array(),
  ),
  scheme: fc.string(),
  secretIndex: fc.nat(),
});

const job: fc.Arbitrary<WebhookJob> = fc.record({
  key: fc.option(anyKey, { nil: undefined }),
  token: fc.option(fc.string(), { nil: undefined }),
  event,
  version: fc.option(fc.string(), { nil: undefined }),
  stale: fc.boolean(),
});

/**
 * Exactly the same value: primitives by Object.is, the same prototypes, the same own keys
 * in the same order, Buffer apart from Uint8Array. (toStrictEqual compares `constructor`
 * properties by reference, so it cannot check payloads that have a "constructor" key.)
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b as Uint8Array));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** What BullMQ does to job data on the way through Redis. */
function throughRedis(data: unknown): unknown {
  return JSON.parse(Buffer.from(JSON.stringify(data), "utf8").toString("utf8"));
}

describe("hookguard/bullmq job data", () => {
  it("comes back exactly (prototypes, -0, NaN, undefined, bigint, Date, Buffer vs Uint8Array), without the claim token", () => {
    fc.assert(
      fc.property(job, (j) => {
        const { token: _token, ...rest } = j;
        const back = decodeJob(throughRedis(encodeJob(j)));
        expect(same(back, { ...rest, token: undefined }), "decoded differs from the original").toBe(true);
      }),
      { numRuns: runs },
    );
  });

  it("keeps Buffer and Uint8Array apart, and -0 apart from 0", () => {
    const base = { key: "k", token: undefined, event: { id: "1", type: "t", timestamp: undefined, scheme: "s", secretIndex: 0 } };
    const buffer = decodeJob(throughRedis(encodeJob({ ...base, event: { ...base.event, payload: -0, rawBody: Buffer.from("hi") } })));
    expect(Buffer.isBuffer(buffer.event.rawBody)).toBe(true);
    expect(Object.is(buffer.event.payload, -0)).toBe(true);
    const bytes = decodeJob(throughRedis(encodeJob({ ...base, event: { ...base.event, payload: 0, rawBody: new Uint8Array([104, 105]) } })));
    expect(Buffer.isBuffer(bytes.event.rawBody)).toBe(false);
    expect(bytes.event.rawBody).toEqual(new Uint8Array([104, 105]));
    expect(Object.is(bytes.event.payload, 0)).toBe(true);
  });

  it("refuses what it cannot restore, naming where it is", () => {
    const base = { key: "k", token: undefined, event: { id: "1", type: "t", timestamp: undefined, rawBody: "", scheme: "s", secretIndex: 0 } };
    class Order {
      id = 1;
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeJob({ ...base, event: { ...base.event, payload: { a: [new Order()] } } })).toThrow("job.event.payload.a[0] is a Order");
    expect(() => encodeJob({ ...base, event: { ...base.event, payload: { f: () => 1 } } })).toThrow("job.event.payload.f is a function");
    expect(() => encodeJob({ ...base, event: { ...base.event, payload: cyclic } })).toThrow("job.event.payload.self refers back to itself");
    // Shared (not cyclic) references are fine: they come back as copies.
    const shared = { x: 1 };
    expect(decodeJob(throughRedis(encodeJob({ ...base, event: { ...base.event, payload: [shared, shared] } }))).event.payload).toEqual([{ x: 1 }, { x: 1 }]);
  });

  it("refuses data it did not write, and data from a newer version", () => {
    expect(() => decodeJob({ hello: 1 })).toThrow(/not added by hookguard/);
    expect(() => decodeJob(null)).toThrow(/not added by hookguard/);
    expect(() => decodeJob({ v: 2, job: { event: {} } })).toThrow(/newer hookguard .* upgrade the workers before the receivers/);
    expect(() => decodeJob({ v: 1, job: { key: "k" } })).toThrow(/has no event/);
    expect(() => decodeJob({ v: 1, job: { event: { $hg: "weird" } } })).toThrow(/unknown tag "weird"/);
  });
});
