// Fastify: a GitHub receiver on one route, each delivery handled once; JSON parsing elsewhere is untouched.
// Run: GITHUB_WEBHOOK_SECRET=... npx tsx examples/fastify.ts
import Fastify from "fastify";
import { createWebhookReceiver, github } from "hookguard";
import { handleWebhooks } from "hookguard/fastify";

const receiver = createWebhookReceiver({ scheme: github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }) });
receiver.on("push", (event) => console.log(`push ${event.id}`));

const app = Fastify({ logger: true });
app.register(handleWebhooks(receiver), { path: "/webhooks/github" });
await app.listen({ port: 3000 });
