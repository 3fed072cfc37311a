// The adapters take hookguard's receiver answer as a value when it is ready at once; a
// receiver whose `receive` was replaced must still be called through its own `receive`,
// and both must answer the same.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { handleWebhooks } from "../../src/adapters/node";
import { createWebhookReceiver, signWebhook, stripe, type WebhookReceiver } from "../../src/index";

const secret = "whsec_receive_now";
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(receiver: Parameters<typeof handleWebhooks>[0]): Promise<string> {
  const server = createServer(handleWebhooks(receiver));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

async function post(url: string, id: string): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify({ id, type: "invoice.paid" });
  const headers = await signWebhook(body, stripe({ secret }));
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, body: await res.json() };
}

describe("handleWebhooks and a receiver's own receive", () => {
  it("answers the same through the direct entry and through a replaced receive, which is called every time", async () => {
    const runs: string[] = [];
    const receiver: WebhookReceiver = createWebhookReceiver({ scheme: stripe({ secret }) });
    receiver.on("invoice.paid", (event) => {
      runs.push(event.id!);
    });
    const calls: string[] = [];
    const wrapped = {
      ...receiver,
      receive: async (request: Parameters<WebhookReceiver["receive"]>[0]) => {
        calls.push("wrapped");
        return receiver.receive(request);
      },
    };
    const direct = await serve(receiver);
    const viaWrapper = await serve(wrapped);
    expect(await post(direct, "evt_1")).toEqual({ status: 200, body: { status: "processed" } });
    expect(await post(viaWrapper, "evt_2")).toEqual({ status: 200, body: { status: "processed" } });
    // A duplicate is a duplicate whichever way it comes in: one store, one run.
    const again = await post(viaWrapper, "evt_1");
    expect(again.status).toBe(200);
    expect(again.body).toEqual((await post(direct, "evt_2")).body);
    expect(calls).toEqual(["wrapped", "wrapped"]);
    expect(runs).toEqual(["evt_1", "evt_2"]);
  });
});
