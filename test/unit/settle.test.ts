// settle(): how the Node and Express listeners hand the pipeline's answer to the response
// without an async function, and route every failure to one place.
import { describe, expect, it } from "vitest";
import { settle } from "../../src/adapters/internal/pipeline";

function recorder() {
  const log: string[] = [];
  return { log, write: (value: string) => void log.push(`write ${value}`), failed: (error: unknown) => void log.push(`failed ${(error as Error).message}`) };
}

describe("settle", () => {
  it("writes a value at once, before returning", async () => {
    const { log, write, failed } = recorder();
    const done = settle(() => "a", write, failed);
    expect(log).toEqual(["write a"]);
    await expect(done).resolves.toBeUndefined();
  });

  it("writes a promised value once it settles", async () => {
    const { log, write, failed } = recorder();
    const done = settle(() => Promise.resolve("b"), write, failed);
    expect(log).toEqual([]);
    await done;
    expect(log).toEqual(["write b"]);
  });

  it("hands a synchronous throw, a rejection, and a throwing write to `failed`, once each", async () => {
    const { log, write, failed } = recorder();
    await settle(
      () => {
        throw new Error("start threw");
      },
      write,
      failed,
    );
    await settle(() => Promise.reject(new Error("rejected")), write, failed);
    const throwing = () => {
      throw new Error("write threw");
    };
    await settle(() => "c", throwing, failed);
    await settle(() => Promise.resolve("d"), throwing, failed);
    expect(log).toEqual(["failed start threw", "failed rejected", "failed write threw", "failed write threw"]);
  });
});
