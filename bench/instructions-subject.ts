// One subject of bench/instructions.sh: verifies `--calls=N` 1 KiB requests in a loop, the
// raw limit (bench/raw.ts, called synchronously, as `npm run bench` does) or hookguard's
// verifyWebhook from the built bundle (awaited, as a caller would), or hookguard's receiver
// (`--subject=receiver` / `receiver-nostore`, Stripe only), or the Web adapter and its
// hand-written counterpart (`--subject=fetch` / `fetch-limit`, Stripe only). Run under callgrind by
// the script, twice with different N: the difference is the marginal cost of a call.
import { pathToFileURL } from "node:url";
import type * as Index from "../src/index";
import { GITHUB_SECRET, STANDARD_SECRET, STRIPE_SECRET, jsonEvent, signFixture, type SignedFixture } from "./fixtures";
import { rawGitHub, rawStandardWebhooks, rawStripe } from "./raw";
import { BENCH_STORE_ENTRIES } from "./bench-store.mjs";
import { github, standardWebhooks, stripe } from "../src/index";
import type * as FetchAdapter from "../src/adapters/fetch";

/** A fresh Request per call, as @hono/node-server builds one: only what a handler reads. */
function lightRequest(f: SignedFixture): () => Request {
  const record: Record<string, string> = { ...f.headers, "content-type": "application/json", "content-length": String(f.body.byteLength) };
  const headers = { get: (name: string) => record[name.toLowerCase()] ?? null };
  return () => {
    let used = false;
    return {
      method: "POST",
      url: "http://127.0.0.1/webhooks/stripe",
      headers,
      body: null,
      get bodyUsed() {
        return used;
      },
      arrayBuffer() {
        used = true;
        return Promise.resolve(f.body.buffer.slice(f.body.byteOffset, f.body.byteOffset + f.body.byteLength));
      },
    } as unknown as Request;
  };
}

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const scheme = option("scheme") ?? "stripe";
const subject = option("subject") ?? "raw";
const calls = Number(option("calls") ?? "10000");
const dist = option("dist") ?? "dist";

const secret = scheme === "github" ? GITHUB_SECRET : scheme === "standard-webhooks" ? STANDARD_SECRET : STRIPE_SECRET;
const signer = scheme === "github" ? github({ secret }) : scheme === "standard-webhooks" ? standardWebhooks({ secret }) : stripe({ secret });
const pool: SignedFixture[] = [];
for (let i = 0; i < 256; i++) {
  const body = jsonEvent(1024, { id: `evt_${String(i).padStart(12, "0")}`, object: "event", type: "invoice.paid" });
  pool.push(await signFixture(body, signer as Index.WebhookScheme<unknown>, scheme === "github" ? { "x-github-event": "push" } : {}, `msg_${i}`));
}

if (subject === "raw") {
  const raw = scheme === "github" ? rawGitHub(secret) : scheme === "standard-webhooks" ? rawStandardWebhooks(secret) : rawStripe(secret);
  for (let i = 0; i < calls; i++) {
    const f = pool[i & 255]!;
    if (raw(f.body, f.headers) === undefined) throw new Error("the raw limit did not verify");
  }
} else if (subject === "receiver" || subject === "receiver-nostore") {
  // The receiver as the adapters call it: its value-or-promise entry, hanging on `receive`
  // under a private symbol (src/internal/receive-now.ts). "receiver": each call claimed
  // under the default key in a memory store of BENCH_STORE_ENTRIES keys (bench-store.mjs:
  // the pool repeats after more claims than that); "receiver-nostore": no key, so no claim
  // and no completion.
  const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
  if (scheme !== "stripe") throw new Error("the receiver subjects run the Stripe scheme only");
  let handled = 0;
  const receiver =
    subject === "receiver"
      ? hg.createWebhookReceiver({ scheme: hg.stripe({ secret }), store: hg.memoryStore({ maxEntries: BENCH_STORE_ENTRIES }) })
      : hg.createWebhookReceiver({ scheme: hg.stripe({ secret }), idempotencyKey: () => undefined, missingId: "process" });
  receiver.on("invoice.paid", () => void handled++);
  const tag = Object.getOwnPropertySymbols(receiver.receive).find((s) => s.description === "hookguard.receiveNow");
  const now = tag && (receiver.receive as unknown as Record<symbol, (r: Index.WebhookRequest) => Index.WebhookResponse | Promise<Index.WebhookResponse>>)[tag];
  if (now === undefined) throw new Error("the receiver has no receiveNow");
  for (let i = 0; i < calls; i++) {
    const f = pool[i & 255]!;
    let answer = now({ body: f.body, headers: f.headers, method: "POST" });
    if (answer instanceof Promise) answer = await answer;
    if (answer.status !== 200) throw new Error(`the receiver answered ${answer.status}`);
  }
  if (handled !== calls) throw new Error(`${handled} of ${calls} events handled`);
} else if (subject === "fetch" || subject === "fetch-limit") {
  // The Web adapter's overhead, without a server: a Request shaped like @hono/node-server's
  // lightweight one (headers read from a record, the body handed over as one buffer, no
  // stream), answered by hookguard/fetch's handleWebhooks (a new claim each call, as for
  // "receiver") or by the hand-written handler of bench/http-server.ts's Hono limit.
  if (scheme !== "stripe") throw new Error("the fetch subjects run the Stripe scheme only");
  const requests = pool.map((f) => lightRequest(f));
  let respond: (request: Request) => Promise<Response>;
  if (subject === "fetch") {
    const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
    const fetchAdapter = (await import(pathToFileURL(`${dist}/fetch.js`).href)) as typeof FetchAdapter;
    const receiver = hg.createWebhookReceiver({ scheme: hg.stripe({ secret }), store: hg.memoryStore({ maxEntries: BENCH_STORE_ENTRIES }) });
    receiver.on("invoice.paid", () => {});
    respond = fetchAdapter.handleWebhooks(receiver);
  } else {
    const raw = rawStripe(secret);
    const json = { "content-type": "application/json" };
    respond = async (request) => {
      const body = Buffer.from(await request.arrayBuffer());
      if (raw(body, { "stripe-signature": request.headers.get("stripe-signature") ?? undefined }) !== undefined) return new Response('{"status":"processed"}', { status: 200, headers: json });
      return new Response('{"error":"signature_mismatch"}', { status: 401, headers: json });
    };
  }
  for (let i = 0; i < calls; i++) {
    const response = await respond(requests[i & 255]!());
    if (response.status !== 200) throw new Error(`${subject} answered ${response.status}`);
  }
} else {
  const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
  const s = scheme === "github" ? hg.github({ secret }) : scheme === "standard-webhooks" ? hg.standardWebhooks({ secret }) : hg.stripe({ secret });
  for (let i = 0; i < calls; i++) await hg.verifyWebhook(pool[i & 255]!, s);
}
