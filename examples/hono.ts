// Hono (here on Node via @hono/node-server; the same app runs on Bun, Deno and Workers):
// a Stripe receiver on one route.
// Run: STRIPE_WEBHOOK_SECRET=whsec_... npx tsx examples/hono.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createWebhookReceiver, stripe } from "hookguard";
import { handleWebhooks } from "hookguard/fetch";

const receiver = createWebhookReceiver({ scheme: stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }) });
receiver.on("invoice.paid", (event) => console.log(`invoice paid ${event.id}`));
const stripeWebhooks = handleWebhooks(receiver);

// Hand over c.req.raw untouched: reading c.req.json() first would consume the raw bytes.
const app = new Hono().post("/webhooks/stripe", (c) => stripeWebhooks(c.req.raw));
serve({ fetch: app.fetch, port: 3000 });
