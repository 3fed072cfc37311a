// receiveNodeRequests(): how the Node and Express `handleWebhooks` listeners read the body
// from the request's own events, ask the receiver and write its answer without promises
// in between, and route every failure to one place — never to an uncaught exception.
import type { ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { receiveNodeRequests } from "../../src/adapters/internal/node-listener";
import { resolveSettings, type ReceiverLike } from "../../src/adapters/internal/options";
import { withReceiveNow } from "../../src/internal/receive-now";
import type { WebhookResponse } from "../../src/response";
import type { WebhookRequest } from "../../src/types";

type Req = PassThrough & { headers: Record<string, string>; method: string; url: string; rawBody?: Buffer };

function request(headers: Record<string, string> = {}): Req {
  return Object.assign(new PassThrough(), { headers: { "content-type": "application/json", ...headers }, method: "POST", url: "/hooks" });
}

const OK: WebhookResponse = { status: 200, headers: { "content-type": "application/json" }, body: '{"status":"processed"}' };

function response(log: string[], throwOnWrite = false) {
  return {
    headersSent: false,
    writeHead(status: number) {
      if (throwOnWrite) throw new Error("write threw");
      log.push(`writeHead ${status}`);
      return this;
    },
    end(body: string) {
      log.push(`end ${body}`);
      return this;
    },
    destroy() {
      log.push("destroy");
    },
  } as unknown as ServerResponse;
}

function listener(receive: (request: WebhookRequest) => WebhookResponse | Promise<WebhookResponse>, log: string[], options: { throwInFailed?: boolean; now?: boolean } = {}) {
  const asyncReceive = async (r: WebhookRequest) => receive(r);
  const receiver: ReceiverLike = { receive: options.now ? withReceiveNow(asyncReceive, receive) : asyncReceive };
  const settings = resolveSettings("hookguard/node", "handleWebhooks", {}, { path: (r: Req) => r.url, local: (r: Req) => `http://x${r.url}` }, undefined);
  return receiveNodeRequests<Req & never, ServerResponse, string>(receiver, settings, (_res, error, next) => {
    log.push(`failed ${(error as Error).message} (${next})`);
    if (options.throwInFailed) throw new Error("failed threw");
  });
}

describe("receiveNodeRequests", () => {
  it("reads a streamed body whole, hands its bytes and head to the receiver, writes the answer, then resolves", async () => {
    const log: string[] = [];
    const seen: WebhookRequest[] = [];
    const listen = listener((r) => (seen.push(r), OK), log, { now: true });
    const req = request();
    const done = listen(req as never, response(log), "next");
    req.write('{"id":');
    req.end('"evt_1"}');
    await done;
    expect(log).toEqual(["writeHead 200", `end ${OK.body}`]);
    expect(Buffer.from(seen[0]!.body as Uint8Array).toString()).toBe('{"id":"evt_1"}');
    expect(seen[0]!.method).toBe("POST");
    expect((seen[0]!.headers as Record<string, string>)["content-type"]).toBe("application/json");
  });

  it("answers a body a middleware kept before returning, without reading the stream", async () => {
    const log: string[] = [];
    const req = Object.assign(request(), { rawBody: Buffer.from("{}") });
    const done = listener(() => OK, log, { now: true })(req as never, response(log), "next");
    expect(log).toEqual(["writeHead 200", `end ${OK.body}`]);
    await expect(done).resolves.toBeUndefined();
  });

  it("writes a promised answer once it settles", async () => {
    const log: string[] = [];
    const req = Object.assign(request(), { rawBody: Buffer.from("{}") });
    const done = listener(async () => OK, log)(req as never, response(log), "next");
    expect(log).toEqual([]);
    await done;
    expect(log).toEqual(["writeHead 200", `end ${OK.body}`]);
  });

  it("hands a throwing receiver, a rejecting one and a throwing write to `failed` once each, with `next`", async () => {
    const log: string[] = [];
    const kept = () => Object.assign(request(), { rawBody: Buffer.from("{}") });
    await listener(
      () => {
        throw new Error("receive threw");
      },
      log,
      { now: true },
    )(kept() as never, response(log), "n1");
    await listener(() => Promise.reject(new Error("rejected")), log, { now: true })(kept() as never, response(log), "n2");
    await listener(() => OK, log, { now: true })(kept() as never, response(log, true), "n3");
    const streamed = request();
    const done = listener(async () => OK, log)(streamed as never, response(log, true), "n4");
    streamed.end("{}");
    await done;
    expect(log).toEqual(["failed receive threw (n1)", "failed rejected (n2)", "failed write threw (n3)", "failed write threw (n4)"]);
  });

  it("turns a `failed` that throws after a streamed body into the listener's rejection, not an uncaught exception", async () => {
    const log: string[] = [];
    const req = request();
    const done = listener(
      () => {
        throw new Error("receive threw");
      },
      log,
      { now: true, throwInFailed: true },
    )(req as never, response(log), "next");
    req.end("{}");
    await expect(done).rejects.toThrow("failed threw");
    expect(log).toEqual(["failed receive threw (next)"]);
  });

  // The listener reads a Node stream's state once (what readableDidRead, readableEnded and
  // destroyed read) and asks the getters of a stream that has none.
  describe("a stream already read, ended or destroyed", () => {
    const consumed = async () => {
      const req = request();
      req.end("{}");
      for await (const _ of req) void _;
      return req;
    };
    const ended = async () => {
      const req = request();
      req.end();
      req.resume();
      await new Promise((resolve) => req.once("end", resolve));
      return req;
    };
    const destroyed = () => {
      const req = request();
      req.on("error", () => {});
      req.destroy();
      return req;
    };
    /** The same flags behind the getters only: no `_readableState`. */
    const duck = (flags: { readableDidRead?: boolean; readableEnded?: boolean; destroyed?: boolean }) =>
      Object.assign(Object.create(null) as object, { headers: { "content-type": "application/json" }, method: "POST", url: "/hooks", readableDidRead: false, readableEnded: false, destroyed: false, ...flags });

    for (const [name, make] of [
      ["a Node stream", { consumed, ended, destroyed }],
      ["a stream without _readableState", { consumed: () => duck({ readableDidRead: true, readableEnded: true }), ended: () => duck({ readableEnded: true }), destroyed: () => duck({ destroyed: true }) }],
    ] as const) {
      it(`${name}: read by a parser → 500 body_not_raw, without waiting for an end that came already`, async () => {
        const log: string[] = [];
        const seen: WebhookRequest[] = [];
        await listener((r) => (seen.push(r), OK), log, { now: true })((await make.consumed()) as never, response(log), "next");
        expect(log).toEqual(["writeHead 500", expect.stringContaining('"error":"body_not_raw"')]);
        expect(seen).toEqual([]);
      });

      it(`${name}: ended with nothing read → the receiver gets an empty body`, async () => {
        const log: string[] = [];
        const seen: WebhookRequest[] = [];
        await listener((r) => (seen.push(r), OK), log, { now: true })((await make.ended()) as never, response(log), "next");
        expect(log).toEqual(["writeHead 200", `end ${OK.body}`]);
        expect((seen[0]!.body as Uint8Array).byteLength).toBe(0);
      });

      it(`${name}: destroyed → nothing asked, the response destroyed`, async () => {
        const log: string[] = [];
        const seen: WebhookRequest[] = [];
        await listener((r) => (seen.push(r), OK), log, { now: true })(make.destroyed() as never, response(log), "next");
        expect(log).toEqual(["destroy"]);
        expect(seen).toEqual([]);
      });
    }
  });

  it("answers 413 for a body over the limit as it streams, without waiting for its end", async () => {
    const log: string[] = [];
    const asyncReceive = async () => OK;
    const settings = resolveSettings("hookguard/node", "handleWebhooks", { maxBodyBytes: 8 }, { path: (r: Req) => r.url, local: (r: Req) => r.url }, undefined);
    const listen = receiveNodeRequests<Req & never, ServerResponse, undefined>({ receive: asyncReceive }, settings, () => void log.push("failed"));
    const req = request();
    const done = listen(req as never, response(log), undefined);
    req.write("0123456789");
    await done;
    expect(log).toEqual(["writeHead 413", expect.stringContaining('"error":"payload_too_large"')]);
  });
});
