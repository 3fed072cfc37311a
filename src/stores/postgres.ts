/**
 * An idempotency store on PostgreSQL, shared by every process that receives the same
 * webhooks. Takes the `pg` Pool (or PGlite, or any `query(text, values)` client) you
 * already have; imports no driver.
 *
 * ```ts
 * import { postgresStore, postgresSchema } from "hookguard/postgres";
 * ```
 *
 * @module hookguard/postgres
 */
import type { ClaimResult, IdempotencyStore, WatermarkResult } from "../store";
import { durationMs, newToken } from "./validate";

/**
 * What {@link postgresStore} needs of a client: `query(text, values)` resolving to
 * `{ rows }`. A `pg` `Pool` (recommended) or `Client` fits, and so does PGlite or any
 * driver wrapped to that shape.
 */
export interface PostgresLikeClient {
  /** Runs one parameterised statement (`$1`, `$2`, …) and resolves its result. */
  query(text: string, values?: unknown[]): Promise<{
    /** The rows the statement returned (`RETURNING …`), as objects keyed by column. */
    rows: unknown[];
  }>;
}

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A `pg` `Pool` or `Client`, or anything with `query(text, values) → Promise<{ rows }>`.
   * Prefer a Pool: a single Client runs one query at a time, so concurrent deliveries queue
   * behind each other (and pg 8 warns about overlapping calls on one Client).
   */
  readonly client: PostgresLikeClient;
  /**
   * The table, optionally schema-qualified (`"webhooks.idempotency"`). Letters, digits and
   * `_`, not starting with a digit; it is quoted in SQL, so its case is kept as written.
   *
   * @default "hookguard_idempotency"
   */
  readonly table?: string;
}

/** Options of {@link PostgresStore.purgeExpired}. */
export interface PurgeExpiredOptions {
  /**
   * The most rows one call deletes, so a large backlog never holds locks for long: call
   * again while it returns this many.
   *
   * @default 10_000
   */
  readonly limit?: number;
}

/** The store {@link postgresStore} returns: an {@link IdempotencyStore} with setup and cleanup helpers. */
export interface PostgresStore extends IdempotencyStore {
  /** The out-of-order guard's watermarks, in `<table>_watermarks`. */
  advanceWatermark(key: string, value: number, options: { ttlMs: number }): Promise<WatermarkResult>;
  /**
   * Creates the table and its expiry index if they do not exist ({@link postgresSchema}).
   * Opt-in, for development and tests; in production, run the same DDL in a migration.
   */
  createTable(): Promise<void>;
  /**
   * Deletes expired leases, completed keys past their TTL and expired watermarks, oldest
   * first, and resolves
   * how many claim rows went. Claims never need it (an expired row is reused in place), but
   * without it the table keeps one row per event ever seen: run it on a schedule (a cron
   * job, `pg_cron`, or a timer in one of your processes).
   */
  purgeExpired(options?: PurgeExpiredOptions): Promise<number>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function quotedTable(table: unknown): { sql: string; name: string } {
  const parts = typeof table === "string" ? table.split(".") : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new TypeError(
      `hookguard: postgresStore({ table }) must be a table name like "hookguard_idempotency" or "schema.table" (letters, digits and _, not starting with a digit, at most 63 characters each); got ${JSON.stringify(table)}`,
    );
  }
  return { sql: parts.map((p) => `"${p}"`).join("."), name: parts[parts.length - 1]! };
}

/**
 * The DDL of {@link postgresStore}'s table: run it in a migration (or call
 * `store.createTable()` in development).
 *
 * - `key` the idempotency key; `token` the fencing token of the last claim;
 *   `completed` false while leased, true once completed; `expires_at` when the lease, or
 *   the completed key's dedupe window, ends (by the database's clock).
 * - The index on `expires_at` serves `purgeExpired()`.
 * - `<table>_watermarks` holds the out-of-order guard's newest value per resource.
 *
 * Subpath: `hookguard/postgres`.
 *
 * @param table - as in {@link PostgresStoreOptions.table}. @default "hookguard_idempotency"
 *
 * @example
 * ```ts
 * import { postgresSchema } from "hookguard/postgres";
 * console.log(postgresSchema());
 * // CREATE TABLE IF NOT EXISTS "hookguard_idempotency" (
 * //   key        text        PRIMARY KEY,
 * //   token      text        NOT NULL,
 * //   completed  boolean     NOT NULL DEFAULT false,
 * //   expires_at timestamptz NOT NULL
 * // );
 * // CREATE INDEX IF NOT EXISTS "hookguard_idempotency_expires_at_idx" ON "hookguard_idempotency" (expires_at);
 * // CREATE TABLE IF NOT EXISTS "hookguard_idempotency_watermarks" (
 * //   key        text             PRIMARY KEY,
 * //   value      double precision NOT NULL,
 * //   expires_at timestamptz      NOT NULL
 * // );
 * ```
 */
export function postgresSchema(table = "hookguard_idempotency"): string {
  return ddl(quotedTable(table)).join(";\n") + ";\n";
}

const WATERMARKS = "_watermarks";

/** The watermark table beside the claims table: `<table>_watermarks`, in the same schema. */
function watermarkTable(t: { sql: string; name: string }): { sql: string; name: string } {
  const name = `${t.name.slice(0, 63 - WATERMARKS.length)}${WATERMARKS}`;
  const schema = t.sql.includes(".") ? `${t.sql.slice(0, t.sql.indexOf("."))}.` : "";
  return { sql: `${schema}"${name}"`, name };
}

function ddl(t: { sql: string; name: string }): string[] {
  // Postgres truncates identifiers at 63 bytes; keep the index name's suffix instead.
  const index = `"${t.name.slice(0, 63 - "_expires_at_idx".length)}_expires_at_idx"`;
  const w = watermarkTable(t);
  return [
    `CREATE TABLE IF NOT EXISTS ${t.sql} (\n` +
      `  key        text        PRIMARY KEY,\n` +
      `  token      text        NOT NULL,\n` +
      `  completed  boolean     NOT NULL DEFAULT false,\n` +
      `  expires_at timestamptz NOT NULL\n` +
      `)`,
    `CREATE INDEX IF NOT EXISTS ${index} ON ${t.sql} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${w.sql} (\n` +
      `  key        text             PRIMARY KEY,\n` +
      `  value      double precision NOT NULL,\n` +
      `  expires_at timestamptz      NOT NULL\n` +
      `)`,
  ];
}

const IN_PROGRESS: ClaimResult = Object.freeze({ status: "in_progress" });
const COMPLETED: ClaimResult = Object.freeze({ status: "completed" });

function pgErrorCode(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
}

/**
 * Creates an idempotency store on PostgreSQL, shared by every process that receives the
 * same webhooks. Takes a `pg` `Pool` (or `Client`, or anything with `query(text, values)`
 * such as PGlite); hookguard imports no driver.
 *
 * Each operation is one statement, so one atomic step and one round trip:
 *
 * - `claim`: `INSERT … ON CONFLICT (key) DO UPDATE`, which takes over the row only if
 *   its lease expired or its dedupe window passed, and otherwise leaves it as it is but
 *   still returns it, locked and current, so the same statement tells `in_progress` from
 *   `completed`. (A fallback `SELECT` in the same statement could not: it reads the
 *   statement's snapshot, which misses a row a concurrent claim just inserted: measured,
 *   302 of 400 racing claims got no row back.) A duplicate delivery therefore costs a
 *   row lock and a no-op update, which PostgreSQL does as a HOT update.
 * - `complete` / `release`: `UPDATE` / `DELETE … WHERE key = $1 AND token = $2 AND` the
 *   lease is live.
 *
 * Time is the database's (`statement_timestamp()`), so machines with skewed clocks agree.
 * Create the table with {@link postgresSchema} (or `store.createTable()`), and schedule
 * `store.purgeExpired()`.
 *
 * Subpath: `hookguard/postgres`.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { postgresStore } from "hookguard/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = postgresStore({ client: pool });
 * await store.createTable(); // or run postgresSchema() in a migration
 * setInterval(() => void store.purgeExpired().catch(console.error), 60 * 60 * 1000).unref();
 * const receiver = createWebhookReceiver({ scheme, store });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const { client, table = "hookguard_idempotency" } = options ?? ({} as PostgresStoreOptions);
  if (typeof client !== "object" || client === null || typeof client.query !== "function") {
    throw new TypeError("hookguard: postgresStore() needs `client`: a pg Pool or Client, or anything with query(text, values) → Promise<{ rows }>");
  }
  const t = quotedTable(table);
  const T = t.sql;

  // The CASEs keep a live row unchanged (values and all), yet the row is still returned:
  // `token = $2` only if this call's fresh token went in.
  const claimSql =
    `INSERT INTO ${T} AS t (key, token, completed, expires_at) ` +
    `VALUES ($1, $2, false, statement_timestamp() + $3::double precision * interval '1 millisecond') ` +
    `ON CONFLICT (key) DO UPDATE SET ` +
    `token = CASE WHEN t.expires_at <= statement_timestamp() THEN excluded.token ELSE t.token END, ` +
    `completed = CASE WHEN t.expires_at <= statement_timestamp() THEN false ELSE t.completed END, ` +
    `expires_at = CASE WHEN t.expires_at <= statement_timestamp() THEN excluded.expires_at ELSE t.expires_at END ` +
    `RETURNING t.token = $2 AS claimed, t.completed`;
  const completeSql =
    `UPDATE ${T} SET completed = true, expires_at = statement_timestamp() + $3::double precision * interval '1 millisecond' ` +
    `WHERE key = $1 AND token = $2 AND NOT completed AND expires_at > statement_timestamp() RETURNING true AS ok`;
  const releaseSql = `DELETE FROM ${T} WHERE key = $1 AND token = $2 AND NOT completed AND expires_at > statement_timestamp() RETURNING true AS ok`;
  const W = watermarkTable(t).sql;
  // Keeps the larger value (an expired watermark counts as absent) and returns the row as
  // it now is: the offered value was stale exactly when the kept one is larger.
  const advanceSql =
    `INSERT INTO ${W} AS w (key, value, expires_at) ` +
    `VALUES ($1, $2, statement_timestamp() + $3::double precision * interval '1 millisecond') ` +
    `ON CONFLICT (key) DO UPDATE SET ` +
    `value = CASE WHEN w.expires_at <= statement_timestamp() OR excluded.value >= w.value THEN excluded.value ELSE w.value END, ` +
    `expires_at = CASE WHEN w.expires_at <= statement_timestamp() OR excluded.value >= w.value THEN excluded.expires_at ELSE w.expires_at END ` +
    `RETURNING w.value AS latest`;
  const purgeWatermarksSql = `DELETE FROM ${W} WHERE key IN (SELECT key FROM ${W} WHERE expires_at <= statement_timestamp() LIMIT $1 FOR UPDATE SKIP LOCKED)`;
  const purgeSql =
    `WITH gone AS (DELETE FROM ${T} WHERE key IN (` +
    `SELECT key FROM ${T} WHERE expires_at <= statement_timestamp() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED` +
    `) RETURNING 1) SELECT count(*)::int AS n FROM gone`;

  return {
    async claim(key, claimOptions) {
      const leaseMs = durationMs(claimOptions?.leaseMs, "leaseMs", "postgresStore().claim(key, { leaseMs })");
      const token = newToken();
      const { rows } = await client.query(claimSql, [key, token, leaseMs]);
      const row = rows[0] as { claimed?: unknown; completed?: unknown } | undefined;
      if (row?.claimed === true) return { status: "claimed", token };
      if (row?.completed === true) return COMPLETED;
      if (row?.completed === false) return IN_PROGRESS;
      throw new Error(`hookguard: postgresStore claim got an unexpected result from ${T}: ${JSON.stringify(rows)}`);
    },

    async complete(key, token, completeOptions) {
      const ttlMs = durationMs(completeOptions?.ttlMs, "ttlMs", "postgresStore().complete(key, token, { ttlMs })");
      const { rows } = await client.query(completeSql, [key, String(token), ttlMs]);
      return rows.length === 1;
    },

    async release(key, token) {
      const { rows } = await client.query(releaseSql, [key, String(token)]);
      return rows.length === 1;
    },

    async advanceWatermark(key, value, watermarkOptions) {
      const ttlMs = durationMs(watermarkOptions?.ttlMs, "ttlMs", "postgresStore().advanceWatermark(key, value, { ttlMs })");
      if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError("hookguard: postgresStore().advanceWatermark(key, value) needs a finite number");
      const { rows } = await client.query(advanceSql, [key, value, ttlMs]);
      const latest = Number((rows[0] as { latest?: unknown } | undefined)?.latest);
      if (!Number.isFinite(latest)) throw new Error(`hookguard: postgresStore advanceWatermark got an unexpected result from ${W}: ${JSON.stringify(rows)}`);
      return { stale: latest > value, latest };
    },

    async createTable() {
      for (const statement of ddl(t)) {
        for (let attempt = 1; ; attempt++) {
          try {
            await client.query(statement);
            break;
          } catch (e) {
            // Two processes creating it at once: one wins, and IF NOT EXISTS can still lose
            // the race on the catalog — a unique violation (23505), "relation already
            // exists" (42P07) or "type already exists" (42710, the table's row type). The
            // winner has committed by then: running the statement again is a no-op if the
            // table is there, and fails again (thrown) if something else holds the name.
            const code = pgErrorCode(e);
            if ((code !== "23505" && code !== "42P07" && code !== "42710") || attempt === 3) throw e;
          }
        }
      }
    },

    async purgeExpired(purgeOptions = {}) {
      const { limit = 10_000 } = purgeOptions;
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new TypeError(`hookguard: postgresStore().purgeExpired({ limit }) must be a positive integer; got ${String(limit)}`);
      }
      const { rows } = await client.query(purgeSql, [limit]);
      await client.query(purgeWatermarksSql, [limit]);
      return Number((rows[0] as { n?: unknown } | undefined)?.n ?? 0);
    },
  };
}
