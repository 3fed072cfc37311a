// The out-of-order guard and per-handler completion on the real Redis and PostgreSQL.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createWebhookReceiver, signWebhook, stripe, type IdempotencyStore } from "../../src/index";
import { postgresStore } from "../../src/stores/postgres";
import { redisStore } from "../../src/stores/redis";
import { postgresAvailable, redisAvailable } from "../helpers/services";

const scheme = stripe({ secret: "whsec_features_integration" });
const suffix = randomBytes(4).toString("hex");

async function delivery(event: Record<string, unknown>, at = Date.now()) {
  const body = JSON.stringify(event);
  return { body, headers: await signWebhook(body, scheme, { timestamp: at }) };
}

const backends: { name: string; ready: () => Promise<boolean>; make: () => Promise<IdempotencyStore>; cleanup: () => Promise<void> }[] = [
  (() => {
    let client: Redis | undefined;
    const prefix = `hg:features:${suffix}:`;
    return {
      name: "redis",
      ready: redisAvailable,
      make: async () => redisStore({ client: (client ??= new Redis({ host: "127.0.0.1", port: 6379 })), prefix }),
      cleanup: async () => {
        if (!client) return;
        const keys = await client.keys(`${prefix}*`);
        if (keys.length) await client.del(...keys);
        client.disconnect();
      },
    };
  })(),
  (() => {
    let pool: pg.Pool | undefined;
    const table = `hg_features_${suffix}`;
    return {
      name: "postgres",
      ready: postgresAvailable,
      make: async () => {
        pool ??= new pg.Pool({ host: "127.0.0.1", user: "postgres", database: "test", max: 8 });
        const store = postgresStore({ client: pool, table });
        await store.createTable();
        return store;
      },
      cleanup: async () => {
        if (!pool) return;
        await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_watermarks"`);
        await pool.end();
      },
    };
  })(),
];

for (const backend of backends) {
  describe(`receiver features on ${backend.name}`, async () => {
    const ready = await backend.ready();
    afterAll(backend.cleanup);

    it.skipIf(!ready)("flags exactly the events older than the newest one seen, under concurrent out-of-order delivery", async () => {
      const store = await backend.make();
      const seen = new Map<number, boolean>();
      const receiver = createWebhookReceiver({
        scheme,
        store,
        ordering: { resource: (e) => (e.payload as { order: string }).order, position: (e) => (e.payload as { seq: number }).seq },
      }).onAny((e, ctx) => void seen.set((e.payload as { seq: number }).seq, ctx.stale));
      const order = `ord_${suffix}`;
      // The newest first, then the rest concurrently in a shuffled order: all are older.
      await receiver.receive(await delivery({ id: `evt_${suffix}_10`, type: "order.updated", order, seq: 10 }));
      const rest = [3, 7, 1, 9, 2, 8, 5, 4, 6];
      await Promise.all(rest.map(async (seq) => receiver.receive(await delivery({ id: `evt_${suffix}_${seq}`, type: "order.updated", order, seq }))));
      expect(seen.get(10)).toBe(false);
      for (const seq of rest) expect(seen.get(seq)).toBe(true);
      await receiver.receive(await delivery({ id: `evt_${suffix}_11`, type: "order.updated", order, seq: 11 }));
      expect(seen.get(11)).toBe(false);
    });

    it.skipIf(!ready)("after a failure, reruns only the handlers of an event that did not complete", async () => {
      const store = await backend.make();
      const runs: string[] = [];
      let fail = true;
      const receiver = createWebhookReceiver({ scheme, store })
        .onError(() => {})
        .on("invoice.paid", { name: "ledger" }, () => void runs.push("ledger"))
        .on("invoice.paid", { name: "email" }, () => {
          runs.push("email");
          if (fail) throw new Error("mail server down");
        });
      const req = await delivery({ id: `evt_${suffix}_multi`, type: "invoice.paid" });
      expect((await receiver.receive(req)).status).toBe(500);
      fail = false;
      expect((await receiver.receive(req)).status).toBe(200);
      expect(runs).toEqual(["ledger", "email", "email"]);
      expect(JSON.parse((await receiver.receive(req)).body).status).toBe("duplicate");
    });
  });
}
