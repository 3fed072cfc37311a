// The receiver finds an event's handlers by its type, remembering the last type's: handlers
// registered after events were handled, and events of alternating types, must still reach
// exactly the handlers registered for them when they arrive.
import { describe, expect, it } from "vitest";
import { createWebhookReceiver, signWebhook, stripe, type WebhookRequest } from "../../src/index";

const secret = "whsec_handler_routing_test";
const scheme = stripe({ secret });
let n = 0;

async function delivery(type: string): Promise<WebhookRequest> {
  const body = JSON.stringify({ id: `evt_routing_${n++}`, type, object: "event" });
  return { body: Buffer.from(body), headers: await signWebhook(body, scheme) };
}

describe("handler routing", () => {
  it("runs a handler registered after events of its type were handled, beside the earlier one", async () => {
    const ran: string[] = [];
    const receiver = createWebhookReceiver({ scheme }).on("invoice.paid", () => void ran.push("first"));
    expect((await receiver.receive(await delivery("invoice.paid"))).status).toBe(200);
    receiver.on("invoice.paid", () => void ran.push("second"));
    expect((await receiver.receive(await delivery("invoice.paid"))).status).toBe(200);
    receiver.onAny(() => void ran.push("any"));
    expect((await receiver.receive(await delivery("invoice.paid"))).status).toBe(200);
    expect(ran).toEqual(["first", "first", "second", "first", "second", "any"]);
  });

  it("answers an unhandled type as ignored until a handler for it is registered", async () => {
    const ran: string[] = [];
    const receiver = createWebhookReceiver({ scheme, unhandledStatus: 202 });
    expect((await receiver.receive(await delivery("customer.created"))).status).toBe(202);
    receiver.on("customer.*", (event) => void ran.push(event.type ?? ""));
    expect((await receiver.receive(await delivery("customer.created"))).status).toBe(200);
    expect(ran).toEqual(["customer.created"]);
  });

  it("routes events of alternating types to their own handlers", async () => {
    const ran: string[] = [];
    const receiver = createWebhookReceiver({ scheme })
      .on("invoice.paid", (event) => void ran.push(`paid:${event.type}`))
      .on(["invoice.created", "invoice.paid"], (event) => void ran.push(`both:${event.type}`));
    const types = ["invoice.paid", "invoice.created", "invoice.created", "invoice.paid", "charge.failed", "invoice.paid"];
    for (const type of types) await receiver.receive(await delivery(type));
    expect(ran).toEqual([
      "paid:invoice.paid",
      "both:invoice.paid",
      "both:invoice.created",
      "both:invoice.created",
      "paid:invoice.paid",
      "both:invoice.paid",
      "paid:invoice.paid",
      "both:invoice.paid",
    ]);
  });
});
