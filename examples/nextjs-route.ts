// Next.js App Router route handler: save as app/api/webhooks/stripe/route.ts.
import { stripe } from "hookguard";
import { verifyWebhook } from "hookguard/fetch";

export const POST = verifyWebhook(stripe({ secret: process.env.STRIPE_WEBHOOK_SECRET! }), async (event) => {
  console.log(`stripe ${event.type} ${event.id}`);
  return Response.json({ received: true });
});
