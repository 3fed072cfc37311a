// The job's data in Redis: a WebhookJob as JSON, exactly restorable in another process.
//
// BullMQ stores `JSON.stringify(data)`, which would silently change an event: a Date
// becomes a string, a Buffer body `{ type, data: [...] }`, a form payload loses its null
// prototype, `-0` and `1e400` (Infinity after JSON.parse) become `0` and `null`, an
// `undefined` field disappears. So values JSON cannot carry are tagged objects
// `{ "$hg": tag, "v": … }`, and a real object with a "$hg" key is wrapped so it cannot be
// mistaken for a tag.
import type { WebhookJob } from "../../queue";

const TAG = "$hg";
/** Bumped when the layout changes; a worker refuses data newer than it understands. */
export const JOB_DATA_VERSION = 1;

/** What `queue.add` receives (and `job.data` holds). */
export interface JobData {
  readonly v: number;
  readonly job: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

// Own data properties, also for "__proto__": plain assignment would set the prototype.
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function tagged(tag: string, v?: Json): Json {
  return v === undefined ? { [TAG]: tag } : { [TAG]: tag, v };
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return (value as object).constructor?.name ?? "object";
}

function encodeEntries(value: object, path: string, ancestors: Set<object>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(value)) define(out, k, encode((value as Record<string, unknown>)[k], `${path}.${k}`, ancestors));
  return out;
}

function encode(value: unknown, path: string, ancestors: Set<object>): Json {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return tagged("number", Object.is(value, -0) ? "-0" : String(value));
    case "undefined":
      return tagged("undefined");
    case "bigint":
      return tagged("bigint", value.toString());
    case "object":
      break;
    default:
      throw new TypeError(`hookguard/bullmq: ${path} is a ${typeof value}, which cannot be stored in a job`);
  }
  if (value === null) return null;
  if (ancestors.has(value)) throw new TypeError(`hookguard/bullmq: ${path} refers back to itself; a job's event must be a tree`);
  if (value instanceof Date) return tagged("date", Number.isNaN(value.getTime()) ? null : value.getTime());
  if (value instanceof Uint8Array) {
    const bytes = NodeBuffer!.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    return NodeBuffer!.isBuffer(value) ? { [TAG]: "bytes", v: bytes, buffer: true } : tagged("bytes", bytes);
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const out: Json[] = [];
      for (let i = 0; i < value.length; i++) out.push(encode(value[i], `${path}[${i}]`, ancestors));
      return out;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === null) return tagged("null-prototype", encodeEntries(value, path, ancestors));
    if (proto !== Object.prototype) throw new TypeError(`hookguard/bullmq: ${path} is a ${describe(value)}, which cannot be stored in a job (plain objects, arrays, Date and Uint8Array can)`);
    const entries = encodeEntries(value, path, ancestors);
    return Object.hasOwn(value, TAG) ? tagged("object", entries) : entries;
  } finally {
    ancestors.delete(value);
  }
}

function decodeEntries(value: { [key: string]: Json }, target: object): object {
  for (const k of Object.keys(value)) define(target, k, decode(value[k]!));
  return target;
}

function decode(value: Json): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(decode);
  if (!Object.hasOwn(value, TAG)) return decodeEntries(value, {});
  const v = value.v;
  switch (value[TAG]) {
    case "undefined":
      return undefined;
    case "number":
      return Number(v);
    case "bigint":
      return BigInt(v as string);
    case "date":
      return new Date(v === null ? Number.NaN : (v as number));
    case "bytes": {
      const buffer = NodeBuffer!.from(v as string, "base64");
      return value.buffer === true ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    case "null-prototype":
      return decodeEntries(v as { [key: string]: Json }, Object.create(null) as object);
    case "object":
      return decodeEntries(v as { [key: string]: Json }, {});
    default:
      throw new TypeError(`hookguard/bullmq: unknown tag ${JSON.stringify(value[TAG])} in a job's data`);
  }
}

/**
 * Encodes a job for Redis. The fencing token is left out: a durable queue's jobs carry no
 * claim (the receiver completed it once the job was stored). Every other field travels,
 * including ones a later hookguard adds to `WebhookJob`.
 */
export function encodeJob(job: WebhookJob): JobData {
  const { token: _token, ...rest } = job;
  return { v: JOB_DATA_VERSION, job: encode(rest, "job", new Set()) };
}

/** Restores a job encoded by {@link encodeJob}; throws on data it does not understand. */
export function decodeJob(data: unknown): WebhookJob {
  const d = data as Partial<JobData> | null;
  if (typeof d !== "object" || d === null || typeof d.v !== "number" || typeof d.job !== "object" || d.job === null) {
    throw new TypeError("hookguard/bullmq: this job was not added by hookguard (its data has no `v` and `job`)");
  }
  if (d.v > JOB_DATA_VERSION) {
    throw new TypeError(`hookguard/bullmq: this job was stored by a newer hookguard (data version ${d.v}; this worker reads up to ${JOB_DATA_VERSION}): upgrade the workers before the receivers`);
  }
  const job = decode(d.job as Json) as Omit<WebhookJob, "token">;
  if (typeof job.event !== "object" || job.event === null) throw new TypeError("hookguard/bullmq: the job's data has no event");
  return { ...job, token: undefined };
}
