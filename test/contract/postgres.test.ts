// postgresStore against the real PostgreSQL.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresSchema, postgresStore, type PostgresLikeClient } from "../../src/stores/postgres";
import { postgresAvailable, postgresUrl } from "../helpers/services";
import { itKeepsTheStoreContract } from "./conformance-suite";

const available = await postgresAvailable();
// Unique per run: test files run in parallel against the one shared database.
const suffix = randomBytes(6).toString("hex");
const table = `hookguard_test_${suffix}`;
const schema = `hookguard_test_schema_${suffix}`;

/** Counts statements sent: with pg, each `query` is one round trip. */
function counting(client: PostgresLikeClient): { client: PostgresLikeClient; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    client: {
      query(text, values) {
        statements.push(text);
        return client.query(text, values);
      },
    },
  };
}

describe.skipIf(!available)("postgresStore", () => {
  let pool: pg.Pool;

  beforeAll(async () => {
    // Enough connections that the concurrent-claims check really runs claims in parallel.
    pool = new pg.Pool({ connectionString: postgresUrl, max: 20 });
    await postgresStore({ client: pool, table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_watermarks"`);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  describe("with a pg Pool: conformance", () => {
    itKeepsTheStoreContract(() => postgresStore({ client: pool, table }));
  });

  it("works with a single pg Client too", async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      const store = postgresStore({ client, table });
      const r = await store.claim(`client-${suffix}`, { leaseMs: 30_000 });
      if (r.status !== "claimed") throw new Error(r.status);
      // One Client runs one query at a time (pg 8 warns on overlapping calls): sequential.
      expect(await store.claim(`client-${suffix}`, { leaseMs: 30_000 })).toEqual({ status: "in_progress" });
      expect(await store.complete(`client-${suffix}`, r.token, { ttlMs: 30_000 })).toBe(true);
    } finally {
      await client.end();
    }
  });

  it("sends one statement per operation", async () => {
    const { client, statements } = counting(pool);
    const store = postgresStore({ client, table });
    const key = `trips-${suffix}`;
    const r = await store.claim(key, { leaseMs: 30_000 });
    if (r.status !== "claimed") throw new Error(r.status);
    expect(statements).toHaveLength(1);
    await store.claim(key, { leaseMs: 30_000 }); // in_progress: answered by the same single statement
    expect(statements).toHaveLength(2);
    await store.complete(key, r.token, { ttlMs: 30_000 });
    await store.claim(key, { leaseMs: 30_000 }); // completed: likewise
    await store.release(key, r.token);
    expect(statements).toHaveLength(5);
    expect(statements[0]).toMatch(/^INSERT .* ON CONFLICT \(key\) DO UPDATE .* RETURNING/s);
  });

  it("keeps the documented rows, timed by the database clock", async () => {
    const store = postgresStore({ client: pool, table });
    const key = `rows-${suffix}`;
    const r = await store.claim(key, { leaseMs: 30_000 });
    if (r.status !== "claimed") throw new Error(r.status);
    const row = async () =>
      (
        await pool.query(`SELECT token, completed, extract(epoch FROM expires_at - now()) * 1000 AS in_ms FROM "${table}" WHERE key = $1`, [key])
      ).rows[0] as { token: string; completed: boolean; in_ms: string };
    const leased = await row();
    expect(leased).toMatchObject({ token: r.token, completed: false });
    expect(Number(leased.in_ms)).toBeGreaterThan(29_000);
    expect(Number(leased.in_ms)).toBeLessThanOrEqual(30_000);
    expect(await store.complete(key, r.token, { ttlMs: 7 * 24 * 3600_000 })).toBe(true);
    const done = await row();
    expect(done.completed).toBe(true);
    expect(Number(done.in_ms)).toBeGreaterThan(7 * 24 * 3600_000 - 1000);
    // A duplicate delivery reads the row but does not extend or otherwise change it.
    expect(await store.claim(key, { leaseMs: 30_000 })).toEqual({ status: "completed" });
    const after = await row();
    expect(after.token).toBe(r.token);
    expect(after.completed).toBe(true);
  });

  it("answers a claim racing a fresh insert with in_progress, never an error or an empty answer", async () => {
    // The case a fallback SELECT would get wrong: the winning row is inserted by a
    // concurrent transaction after the losers' snapshots were taken.
    const store = postgresStore({ client: pool, table });
    for (let round = 0; round < 20; round++) {
      const key = `race-${suffix}-${round}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, { leaseMs: 30_000 })));
      expect(results.filter((x) => x.status === "claimed")).toHaveLength(1);
      expect(results.filter((x) => x.status === "in_progress")).toHaveLength(19);
    }
  });

  it("creates its table idempotently, even from concurrent callers, and the DDL matches postgresSchema()", async () => {
    const name = `hookguard_test_ddl_${suffix}`;
    try {
      // Each round of 4 concurrent creators lost the catalog race about 1 time in 40 before
      // "type already exists" (42710) was handled: 60 rounds, on fresh tables.
      for (let round = 0; round < 60; round++) {
        const fresh = `${name}_r${round}`;
        try {
          await Promise.all(Array.from({ length: 4 }, () => postgresStore({ client: pool, table: fresh }).createTable()));
        } finally {
          await pool.query(`DROP TABLE IF EXISTS "${fresh}", "${fresh}_watermarks"`);
        }
      }
      await Promise.all(Array.from({ length: 4 }, () => postgresStore({ client: pool, table: name }).createTable()));
      await postgresStore({ client: pool, table: name }).createTable();
      const columns = await pool.query(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [name],
      );
      expect(columns.rows).toEqual([
        { column_name: "key", data_type: "text", is_nullable: "NO" },
        { column_name: "token", data_type: "text", is_nullable: "NO" },
        { column_name: "completed", data_type: "boolean", is_nullable: "NO" },
        { column_name: "expires_at", data_type: "timestamp with time zone", is_nullable: "NO" },
      ]);
      const indexes = await pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [name]);
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual([`${name}_expires_at_idx`, `${name}_pkey`]);
      // The documented DDL is what createTable runs: running it again is a no-op.
      await pool.query(postgresSchema(name));
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${name}", "${name}_watermarks"`);
    }
  });

  it("does not take another object holding the table's name for the table: createTable rejects", async () => {
    const name = `hookguard_test_taken_${suffix}`;
    await pool.query(`CREATE TYPE "${name}" AS (a int)`);
    try {
      // Postgres' own error (here: the index's table "is not a table", 42809), never a silent success.
      await expect(postgresStore({ client: pool, table: name }).createTable()).rejects.toHaveProperty("code", expect.stringMatching(/^[0-9A-Z]{5}$/));
    } finally {
      await pool.query(`DROP TYPE IF EXISTS "${name}"`);
    }
  });

  it("works in a schema-qualified table", async () => {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const store = postgresStore({ client: pool, table: `${schema}.idempotency` });
    await store.createTable();
    const r = await store.claim("evt", { leaseMs: 30_000 });
    expect(r.status).toBe("claimed");
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".idempotency`);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it("purgeExpired deletes expired leases and completions only, in batches", async () => {
    const name = `hookguard_test_purge_${suffix}`;
    const store = postgresStore({ client: pool, table: name });
    await store.createTable();
    try {
      for (let i = 0; i < 5; i++) await store.claim(`expired-lease-${i}`, { leaseMs: 1 });
      for (let i = 0; i < 3; i++) {
        const r = await store.claim(`expired-done-${i}`, { leaseMs: 30_000 });
        if (r.status === "claimed") await store.complete(`expired-done-${i}`, r.token, { ttlMs: 1 });
      }
      const live = await store.claim("live-lease", { leaseMs: 30_000 });
      const done = await store.claim("live-done", { leaseMs: 30_000 });
      if (done.status === "claimed") await store.complete("live-done", done.token, { ttlMs: 30_000 });
      await new Promise((r) => setTimeout(r, 20));

      expect(await store.purgeExpired({ limit: 6 })).toBe(6);
      expect(await store.purgeExpired()).toBe(2);
      expect(await store.purgeExpired()).toBe(0);
      const { rows } = await pool.query(`SELECT key FROM "${name}" ORDER BY key`);
      expect(rows.map((r: { key: string }) => r.key)).toEqual(["live-done", "live-lease"]);
      expect(live.status).toBe("claimed");
      await expect(store.purgeExpired({ limit: 0 })).rejects.toThrow(/limit/);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${name}", "${name}_watermarks"`);
    }
  });

  it("rejects (so the receiver answers 503) when the table is missing", async () => {
    const store = postgresStore({ client: pool, table: `hookguard_test_missing_${suffix}` });
    await expect(store.claim("evt", { leaseMs: 1000 })).rejects.toThrow(/does not exist/);
  });

  it("rejects when PostgreSQL cannot be reached", async () => {
    const down = new pg.Pool({ host: "127.0.0.1", port: 1, user: "postgres", database: "test", connectionTimeoutMillis: 1000 });
    await expect(postgresStore({ client: down }).claim("evt", { leaseMs: 1000 })).rejects.toThrow();
    await down.end();
  });
});

describe("postgresStore: options (no server needed)", () => {
  const client = { query: async () => ({ rows: [] }) };

  it("validates the table name at construction, naming the option", () => {
    for (const bad of ["", "1table", "my-table", 'x"; DROP TABLE users; --', "a.b.c", "a..b", "t".repeat(64), 42 as unknown as string]) {
      expect(() => postgresStore({ client, table: bad })).toThrow(TypeError);
      expect(() => postgresStore({ client, table: bad })).toThrow(/postgresStore\(\{ table \}\)/);
    }
    for (const good of ["hookguard_idempotency", "_t", "Events2", "webhooks.idempotency"]) {
      expect(() => postgresStore({ client, table: good })).not.toThrow();
    }
    expect(() => postgresSchema("bad name")).toThrow(/table/);
  });

  it("rejects a missing client, naming it", () => {
    expect(() => postgresStore(undefined as never)).toThrow(/client/);
    expect(() => postgresStore({ client: {} as never })).toThrow(/client/);
  });

  it("documents its DDL as a quoted table with an expiry index", () => {
    expect(postgresSchema()).toBe(
      'CREATE TABLE IF NOT EXISTS "hookguard_idempotency" (\n' +
        "  key        text        PRIMARY KEY,\n" +
        "  token      text        NOT NULL,\n" +
        "  completed  boolean     NOT NULL DEFAULT false,\n" +
        "  expires_at timestamptz NOT NULL\n" +
        ");\n" +
        'CREATE INDEX IF NOT EXISTS "hookguard_idempotency_expires_at_idx" ON "hookguard_idempotency" (expires_at);\n' +
        'CREATE TABLE IF NOT EXISTS "hookguard_idempotency_watermarks" (\n' +
        "  key        text             PRIMARY KEY,\n" +
        "  value      double precision NOT NULL,\n" +
        "  expires_at timestamptz      NOT NULL\n" +
        ");\n",
    );
    expect(postgresSchema("app.events")).toContain('CREATE TABLE IF NOT EXISTS "app"."events_watermarks"');
    expect(postgresSchema("app.events")).toContain('CREATE TABLE IF NOT EXISTS "app"."events"');
  });

  it("refuses an unexpected claim result instead of guessing", async () => {
    await expect(postgresStore({ client }).claim("k", { leaseMs: 1000 })).rejects.toThrow(/unexpected result/);
  });
});
