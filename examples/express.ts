// Express (4 or 5): verify Stripe webhooks on one route; the rest of the app keeps express.json().
// Run: STRIPE_WEBHOOK_SECRET=whsec_... npx tsx examples/express.ts
import express from "express";
import { stripe } from "hookguard";
import { verifyWebhook } from "hookguard/express";

const app = express();

// Declared before express.json(): the webhook route reads the raw bytes itself.
app.post(
  "/webhooks/stripe",
  verifyWebhook(stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }), (event, _req, res) => {
    console.log(`stripe ${event.type} ${event.id}`);
    res.sendStatus(204);
  }),
);

app.use(express.json());
app.listen(3000, () => console.log("POST http://localhost:3000/webhooks/stripe"));
