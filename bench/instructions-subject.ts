// One subject of bench/instructions.sh: verifies `--calls=N` 1 KiB requests in a loop, the
// raw limit (bench/raw.ts, called synchronously, as `npm run bench` does) or hookguard's
// verifyWebhook from the built bundle (awaited, as a caller would), or hookguard's receiver
// (`--subject=receiver` / `receiver-nostore`, Stripe only). Run under callgrind by
// the script, twice with different N: the difference is the marginal cost of a call.
import { pathToFileURL } from "node:url";
import type * as Index from "../src/index";
import { GITHUB_SECRET, STANDARD_SECRET, STRIPE_SECRET, jsonEvent, signFixture, type SignedFixture } from "./fixtures";
import { rawGitHub, rawStandardWebhooks, rawStripe } from "./raw";
import { github, standardWebhooks, stripe } from "../src/index";

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
  // under a private symbol (src/internal/receive-now.ts). "receiver": the default memory
  // store, each call a new key (`${id}/${n}`: the pool repeats, and a repeat would be a
  // duplicate); "receiver-nostore": no key, so no claim and no completion.
  const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
  if (scheme !== "stripe") throw new Error("the receiver subjects run the Stripe scheme only");
  let n = 0;
  let handled = 0;
  const receiver =
    subject === "receiver"
      ? hg.createWebhookReceiver({ scheme: hg.stripe({ secret }), idempotencyKey: (event) => `${event.id}/${n++}` })
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
} else {
  const hg = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Index;
  const s = scheme === "github" ? hg.github({ secret }) : scheme === "standard-webhooks" ? hg.standardWebhooks({ secret }) : hg.stripe({ secret });
  for (let i = 0; i < calls; i++) await hg.verifyWebhook(pool[i & 255]!, s);
}
