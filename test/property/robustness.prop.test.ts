// Robustness: whatever arrives in the headers a scheme reads, verification rejects with a
// WebhookVerificationError (never another error, never resolves unless the signed values
// are intact), the non-throwing path never throws, header names match in any case, and
// node:crypto and Web Crypto reach the very same outcome for every input, malformed ones included.
import fc from "fast-check";
import { describe, it } from "vitest";
import type { WebhookHeaders } from "../../src/types";
import {
  CASES,
  expectBe,
  expectEqual,
  expectedOk,
  headerValue,
  IMPLS,
  inWindow,
  jsonText,
  matrix,
  nowArb,
  params,
  propTimeout,
  requestOf,
  requestOutcome,
  signRequest,
  tokenSoup,
  verifyOutcome,
  writtenName,
  type Outcome,
  type SchemeCase,
  type SignedRequest,
} from "./support";

/** The headers whose values are signed or carry the signature, each with its names in order of preference. */
function authRoles(c: SchemeCase): (readonly string[])[] {
  return [c.signature.read, ...(c.timestamp?.read ? [c.timestamp.read] : []), ...(c.signedId ? [c.signedId.read] : [])];
}

function headersRead(c: SchemeCase): string[] {
  return [...new Set([...authRoles(c).flat(), ...c.otherHeaders])];
}

/** The value a scheme reads for a role: the first of its names that is present. */
function effective(headers: Readonly<Record<string, string>>, names: readonly string[]): string | undefined {
  for (const n of names) if (headers[n] !== undefined) return headers[n];
  return undefined;
}

type Edit = readonly [name: string, value: string | undefined];

function applyEdits(headers: Readonly<Record<string, string>>, edits: readonly Edit[]): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  for (const [name, value] of edits) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

/** A clock, a tolerance and a valid signed request, signed once (the signature is the same on both paths). */
function fixtureArb(c: SchemeCase) {
  return fc.record({
    secret: c.secret,
    text: jsonText,
    clock: fc.tuple(nowArb, fc.constant(300)).chain(([now, tolerance]) => inWindow(now, tolerance, c.timestamp?.unit).map((timestampMs) => ({ now, tolerance, timestampMs }))),
  });
}

async function signedFixture(c: SchemeCase, f: { secret: string; text: string; clock: { timestampMs: number; tolerance: number } }) {
  const schemes = IMPLS.map((impl) => c.make(f.secret, impl, f.clock.tolerance));
  const signed = await signRequest(c, schemes[0]!, f.text, { id: "msg_robust", type: "robust.test", timestampMs: f.clock.timestampMs, url: "https://example.com/h", method: "POST" });
  return { schemes, signed };
}

/** Runs every entry point on both paths and checks they agree; returns the one outcome. */
async function agreedOutcome(c: SchemeCase, schemes: readonly ReturnType<SchemeCase["make"]>[], signed: SignedRequest, headers: WebhookHeaders, now: number): Promise<Outcome> {
  const request = requestOf(signed, headers);
  const outcomes = [];
  for (const scheme of schemes) {
    outcomes.push(await verifyOutcome(scheme, request, { now }));
    outcomes.push(await requestOutcome(scheme, request, { now }));
  }
  for (const o of outcomes.slice(1)) expectEqual(o, outcomes[0]);
  return outcomes[0]!;
}

describe.each(CASES.map((c) => [c.label, c] as const))("robustness: %s", (_label, c) => {
  const names = headersRead(c);
  const edit: fc.Arbitrary<Edit> = fc.tuple(fc.constantFrom(...names), fc.option(headerValue, { nil: undefined, freq: 4 }));

  it("arbitrary values in the headers it reads → a WebhookVerificationError (never resolves once a signed value changed); node and web agree", async () => {
    await fc.assert(
      fc.asyncProperty(fixtureArb(c), fc.array(edit, { minLength: 1, maxLength: 4 }), async (f, edits) => {
        const { schemes, signed } = await signedFixture(c, f);
        const headers = applyEdits(signed.headers, edits);
        const outcome = await agreedOutcome(c, schemes, signed, headers, f.clock.now);
        const intact = authRoles(c).every((role) => effective(headers, role) === effective(signed.headers, role));
        if (!intact) expectBe(outcome.ok, false);
        // The signature header is read first: without it, nothing else is looked at.
        if (effective(headers, c.signature.read) === undefined) expectEqual(outcome, { ok: false, code: "missing_header" });
      }),
      params(),
    );
  }, propTimeout(0.59));

  it("near-valid signature headers (the real one cut, spliced with separators, prefixes, digits) → node and web agree, failures are WebhookVerificationErrors", async () => {
    const splice = fc.tuple(fc.nat(), fc.nat(), fc.oneof(tokenSoup, fc.string({ unit: "binary", maxLength: 4 })));
    await fc.assert(
      fc.asyncProperty(fixtureArb(c), fc.array(splice, { minLength: 1, maxLength: 3 }), async (f, splices) => {
        const { schemes, signed } = await signedFixture(c, f);
        const name = writtenName(signed.headers, c.signature.read);
        let value = signed.headers[name]!;
        for (const [at, cut, insert] of splices) {
          const i = at % (value.length + 1);
          value = value.slice(0, i) + insert + value.slice(Math.min(value.length, i + (cut % 3)));
        }
        await agreedOutcome(c, schemes, signed, { ...signed.headers, [name]: value }, f.clock.now);
      }),
      params(),
    );
  }, propTimeout(0.22));

  it("a body that is not raw bytes → body_not_raw on both paths, whatever the headers", async () => {
    const notRaw = fc.anything().filter((b) => typeof b !== "string" && !(b instanceof Uint8Array) && !(b instanceof ArrayBuffer) && !ArrayBuffer.isView(b));
    await fc.assert(
      fc.asyncProperty(fixtureArb(c), notRaw, fc.boolean(), async (f, body, dropHeaders) => {
        const { schemes, signed } = await signedFixture(c, f);
        for (const scheme of schemes) {
          const request = { ...requestOf(signed, dropHeaders ? {} : signed.headers), body };
          expectEqual(await verifyOutcome(scheme, request, { now: f.clock.now }), { ok: false, code: "body_not_raw" });
          expectEqual(await requestOutcome(scheme, request, { now: f.clock.now }), { ok: false, code: "body_not_raw" });
        }
      }),
      params(),
    );
  }, propTimeout(0.25));
});

/** Groups of names a provider uses for the same header (svix-* and webhook-*, shopify-* and x-shopify-*, …). */
function aliasGroups(c: SchemeCase): (readonly string[])[] {
  return [...authRoles(c), ...(c.aliases ?? [])].filter((g) => g.length > 1);
}

/** `name` with each ASCII letter's case taken from the stream. */
function recase(name: string, flips: Iterator<boolean>): string {
  let out = "";
  for (const ch of name) out += flips.next().value ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}

describe.each(matrix())("header names: %s (%s crypto)", (_label, impl, c) => {
  it("are found in any case in a plain record, in a Headers object, as Node's arrays, and under the provider's other names", async () => {
    await fc.assert(
      fc.asyncProperty(fixtureArb(c), fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), fc.func(fc.boolean()), fc.infiniteStream(fc.boolean()), async (f, id, useAlternate, flips) => {
        const scheme = c.make(f.secret, impl, f.clock.tolerance);
        const signed = await signRequest(c, scheme, f.text, { id, type: "robust.case", timestampMs: f.clock.timestampMs, url: "https://example.com/h", method: "POST" });
        const expected = expectedOk(c, signed, 0);
        const now = f.clock.now;

        // Each header, sometimes under another name the provider uses for it.
        const renamed: Record<string, string> = {};
        for (const [name, value] of Object.entries(signed.headers)) {
          const alternate = aliasGroups(c)
            .find((g) => g.includes(name))
            ?.find((n) => n !== name);
          renamed[alternate !== undefined && useAlternate(name) ? alternate : name] = value;
        }
        expectEqual(await verifyOutcome(scheme, requestOf(signed, renamed), { now }), expected);

        // Random casing, letter by letter.
        const stream = flips[Symbol.iterator]();
        const cased = Object.fromEntries(Object.entries(renamed).map(([name, value]) => [recase(name, stream), value]));
        expectEqual(await verifyOutcome(scheme, requestOf(signed, cased), { now }), expected);
        expectEqual(await requestOutcome(scheme, requestOf(signed, cased), { now }), expected);

        // A Web Headers object and Node's IncomingHttpHeaders shape (array values).
        expectEqual(await verifyOutcome(scheme, requestOf(signed, new Headers(cased)), { now }), expected);
        const nodeShape = Object.fromEntries(Object.entries(renamed).map(([k, v]) => [k, [v]]));
        expectEqual(await verifyOutcome(scheme, requestOf(signed, nodeShape), { now }), expected);
      }),
      params(),
    );
  }, propTimeout(0.97));
});
