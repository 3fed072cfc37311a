import { buildSubject } from "./build";
import { jsonEvent, signFixture, STRIPE_SECRET } from "./fixtures";
import * as src from "./subject";
import { rawStripe } from "./raw";
const hg = await buildSubject();
const scheme = hg.stripe({ secret: STRIPE_SECRET });
const f = await signFixture(jsonEvent(1024, { id: "evt_1", type: "invoice.paid" }), src.stripe({ secret: STRIPE_SECRET }) as never);
const req = { body: f.body, headers: f.headers };
const raw = rawStripe(STRIPE_SECRET);
const mode = process.argv[2];
let sink: unknown;
const N = 400000;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  if (mode === "raw") sink = raw(f.body, f.headers);
  else if (mode === "req") sink = hg.verifyRequest(req, scheme);
  else sink = await hg.verifyWebhook(req, scheme);
}
console.log(mode, ((performance.now() - t0) / N * 1000).toFixed(2), "µs/op", typeof sink);
