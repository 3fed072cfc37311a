// The receiver's value-or-promise entry (what the adapters call): an answer that is ready at
// once comes back as a value, and only work that really waits comes back as a promise.
import { describe, expect, it } from "vitest";
import { createWebhookReceiver, memoryStore, signWebhook, stripe, type WebhookRequest, type WebhookResponse } from "../../src/index";
import { receiveNowOf } from "../../src/internal/receive-now";

const secret = "whsec_receive_now_test";
const scheme = stripe({ secret });

async function delivery(id: string): Promise<WebhookRequest> {
  const body = JSON.stringify({ id, type: "invoice.paid", object: "event" });
  return { body: Buffer.from(body), headers: await signWebhook(body, scheme) };
}

function nowOf(receiver: { receive: unknown }): (request: WebhookRequest) => WebhookResponse | Promise<WebhookResponse> {
  const now = receiveNowOf(receiver.receive);
  if (now === undefined) throw new Error("the receiver has no receiveNow");
  return now;
}

describe("receiveNow", () => {
  it("answers with a value when the store is memoryStore and the handler synchronous", async () => {
    let runs = 0;
    const receiver = createWebhookReceiver({ scheme, store: memoryStore() }).on("invoice.paid", () => void runs++);
    const answer = nowOf(receiver)(await delivery("evt_1"));
    expect(answer).not.toBeInstanceOf(Promise);
    expect((answer as WebhookResponse).body).toBe('{"status":"processed"}');
    expect(runs).toBe(1);
  });

  it("answers with a value for an event processed without a key (missingId: process)", async () => {
    let runs = 0;
    const receiver = createWebhookReceiver({ scheme, idempotencyKey: () => undefined, missingId: "process" }).on("invoice.paid", () => void runs++);
    const now = nowOf(receiver);
    for (const id of ["evt_2", "evt_2"]) {
      const answer = now(await delivery(id));
      expect(answer).not.toBeInstanceOf(Promise);
      expect((answer as WebhookResponse).status).toBe(200);
    }
    // No key, no dedupe: both copies ran.
    expect(runs).toBe(2);
  });

  it("answers with a promise when a handler is asynchronous, and settles once it has run", async () => {
    const ran: string[] = [];
    const receiver = createWebhookReceiver({ scheme, idempotencyKey: () => undefined, missingId: "process" }).on("invoice.paid", async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      ran.push(event.id ?? "");
    });
    const answer = nowOf(receiver)(await delivery("evt_3"));
    expect(answer).toBeInstanceOf(Promise);
    expect(ran).toEqual([]);
    expect((await answer).status).toBe(200);
    expect(ran).toEqual(["evt_3"]);
  });

  it("answers 500 when a key-less event's handler throws synchronously", async () => {
    const receiver = createWebhookReceiver({ scheme, idempotencyKey: () => undefined, missingId: "process" }).on("invoice.paid", () => {
      throw new Error("boom");
    });
    receiver.onError(() => {});
    const answer = await nowOf(receiver)(await delivery("evt_4"));
    expect(answer.status).toBe(500);
  });

  // memoryStore's synchronous claim does not read the monotonic clock for the lease's start:
  // it is read when something may need it. A store whose completion starts failing after the
  // claim (its methods replaced mid-request) must still be waited out, not given up at once.
  for (const handler of ["synchronous", "asynchronous"] as const) {
    it(`waits out a completion that fails after a synchronous claim (${handler} handler)`, async () => {
      const store = memoryStore();
      const complete = store.complete.bind(store);
      let attempts = 0;
      const errors: string[] = [];
      const flaky = () => {
        store.complete = (key, token, options) => (++attempts <= 2 ? Promise.reject(new Error("store blip")) : complete(key, token, options));
      };
      const receiver = createWebhookReceiver({ scheme, store, logger: { error: (m) => errors.push(m) } }).on("invoice.paid", () => {
        flaky();
        return handler === "asynchronous" ? Promise.resolve() : undefined;
      });
      const answer = await receiver.receive(await delivery("evt_flaky"));
      expect(answer.body).toBe('{"status":"processed"}');
      expect(attempts).toBe(3);
      expect(errors).toEqual([]);
      // Marked done: the duplicate is answered without a second run.
      expect((await receiver.receive(await delivery("evt_flaky"))).body).toBe('{"status":"duplicate"}');
    });
  }
});
