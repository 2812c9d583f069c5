// The instances' MySQL/MariaDB pools on mysql2 directly, without loading Sequelize (connection.ts: `direct`).
//
// Why: an instance runs a few dozen fixed statements, and Sequelize adds nothing to them that the instance needs,
// but loading it costs the instance's memory: validator, lodash, moment-timezone and its data, wkx and Sequelize
// itself are 17 of the 20 MB of live heap a compiled instance holds before serving anything, and V8 lets the heap
// grow to a multiple of its live size under load (docs/performance.md, 3 Dec 2026). The tools (migrations, backfill,
// verify, the rollout) keep Sequelize: they run once, and umzug and the online-DDL session settings build on it.
//
// The same statements, the same answers, as the Sequelize-backed Database gives for MySQL (connection.ts):
// - bind parameters `$1`, `$2`, ... are rewritten to `?` with their values in order of appearance (Sequelize's own
//   rule: a `$` not preceded by a word character, followed by a number; `$$` is a literal `$`). A statement with
//   parameters is prepared and executed (`execute`), one without is sent as text (`query`), as Sequelize does;
// - SELECT gives plain rows; UPDATE and DELETE the rows matched (FOUND_ROWS); INSERT the new id;
// - the session runs in UTC (`SET time_zone = '+00:00'` on every new connection, as Sequelize's connection manager);
// - a transaction takes a connection of its own (READ COMMITTED when asked, for that transaction only), and rolls
//   back and rethrows when fn throws;
// - a connection not handed out within ACQUIRE_TIMEOUT_MS fails with ConnectionAcquireTimeoutError, which
//   errors.ts counts as "the database is not there" (Sequelize's pool did the same with its own error).
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Executor, Param } from './executor.ts';

/** Distinct prepared statements each MySQL connection keeps (mysql2's default: 16,000). */
const MAX_PREPARED_STATEMENTS = 128;

/** The driver settings of every MySQL connection: Sequelize's (connection.ts) and the direct pool's. */
export const MYSQL_DRIVER_SETTINGS = {
  // UPDATE reports rows matched, not rows changed: a PUT that writes the same values is still a hit, not a 404.
  flags: ['+FOUND_ROWS'],
  charset: 'utf8mb4',
  // Timestamps stay strings (database clock, no time-zone conversion in the driver).
  dateStrings: true,
  // mysql2 caches prepared statements per connection in an LRU whose four arrays are allocated at full size
  // up front: its default of 16,000 entries is 0.5 MB of heap per connection, 10 MB for a pool of 20: a third
  // of an instance's live heap, which V8 then lets grow about 4x before collecting. The apps run a few dozen
  // distinct statements; an evicted one is closed and prepared again when next used.
  maxPreparedStatements: MAX_PREPARED_STATEMENTS,
  // mysql2's own conversion, not Sequelize's typeCast function (which only turns DATETIME into a Date, DATEONLY
  // into text and GEOMETRY into GeoJSON). With any typeCast function, mysql2 hands each field to it through a
  // wrapper, and V8 then kept every result row through a young-generation collection: node:http + mysql2
  // promoted 3.7 MB in 12 s of load and 38 MB with `typeCast: (field, next) => next()`. Timestamps arrive as
  // 'YYYY-MM-DD HH:MM:SS.fff' text (dateStrings above) in the session's UTC, as SQLite gives them (time.ts).
  typeCast: true,
};

/** As Sequelize's pool was set for the apps (`acquire`). */
export const ACQUIRE_TIMEOUT_MS = 10_000;

export class ConnectionAcquireTimeoutError extends Error {
  override readonly name = 'ConnectionAcquireTimeoutError';
}

export interface MysqlPoolOptions {
  poolMax: number;
  connectTimeoutMs: number;
  acquireTimeoutMs?: number;
}

export interface DirectPool extends Executor {
  transaction<T>(fn: (tx: Executor) => Promise<T>, options?: { isolation?: 'READ COMMITTED' }): Promise<T>;
  close(): Promise<void>;
}

/** `$1`-style bind parameters as mysql2 takes them (`?`, values in order), by Sequelize's rule for MySQL. */
export function bindToPositional(sql: string, params: readonly Param[]): { sql: string; values: Param[] } {
  const values: Param[] = [];
  const text = sql.replace(/\B\$(\$|\w+)/g, (match, key: string) => {
    if (key === '$') return '$';
    const value = /^[1-9]\d*$/.test(key) ? params[Number(key) - 1] : undefined;
    if (value === undefined) throw new Error(`bind parameter ${match} has no value (${params.length} given)`);
    values.push(value);
    return '?';
  });
  return { sql: text, values };
}

/**
 * A driver error's stack, with `trace` off, shows only the driver's packet parsing. Taken here, after the failed
 * `await`, the stack holds the async functions that awaited this statement (the repository function, the route):
 * what mysql2's `trace` gave, paid for only when a statement fails. The message and the MySQL fields stay.
 */
function withCallers(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const here: { stack?: string } = {};
  Error.captureStackTrace(here, withCallers);
  const frames = here.stack?.split('\n').slice(1) ?? [];
  if (frames.length > 0) err.stack = [`${err.name}: ${err.message}`, ...frames].join('\n');
  return err;
}

export function createDirectPool(url: string, { poolMax, connectTimeoutMs, acquireTimeoutMs = ACQUIRE_TIMEOUT_MS }: MysqlPoolOptions): DirectPool {
  const pool: Pool = mysql.createPool({
    uri: url,
    connectionLimit: poolMax,
    maxIdle: poolMax,
    // Sequelize's pool closed a connection idle for 10 s (`idle`); so does this one.
    idleTimeout: 10_000,
    connectTimeout: connectTimeoutMs,
    ...MYSQL_DRIVER_SETTINGS,
    timezone: '+00:00',
    // As Sequelize opens its MySQL connections: a BIGINT beyond 2^53 arrives as exact text, anything smaller as a number.
    supportBigNumbers: true,
    bigNumberStrings: false,
    // mysql2's `trace` (on by default) captures a stack trace on EVERY statement, in case it fails: in CPU profiles
    // of compiled v2 instances serving GETs (docs/performance.md, 3 Dec 2026, night) that capture was 5-17 us of
    // 110-207 us per request, the largest cost in the instance's own code. `send` below takes the stack only when a
    // statement fails, with the app's callers in it (V8's async stack traces), so an error still says who sent it.
    trace: false,
  });
  // Every new connection runs in UTC before its first statement (a connection runs its commands in order).
  pool.pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'", () => {});
  });

  const acquire = async (): Promise<PoolConnection> => {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const pending = pool.getConnection();
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new ConnectionAcquireTimeoutError(`no database connection free within ${acquireTimeoutMs} ms (pool of ${poolMax})`));
      }, acquireTimeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
      // A connection handed out after the timeout goes back to the pool unused.
      if (timedOut) void pending.then((late) => late.release(), () => {});
    }
  };

  /** Back to the pool, or closed when the error broke it (a lost connection must not be handed out again). */
  const giveBack = (connection: PoolConnection, err: unknown) => {
    if ((err as { fatal?: unknown } | null)?.fatal === true) connection.destroy();
    else connection.release();
  };

  const send = async (connection: PoolConnection, sql: string, params: readonly Param[]) => {
    const bound = bindToPositional(sql, params);
    try {
      const [result] = bound.values.length > 0 ? await connection.execute(bound.sql, bound.values) : await connection.query(bound.sql);
      return result;
    } catch (err) {
      throw withCallers(err);
    }
  };

  const executorOn = (connection: PoolConnection): Executor => ({
    async select<Row extends object>(sql: string, params: Param[] = []) {
      return (await send(connection, sql, params)) as RowDataPacket[] as unknown as Row[];
    },
    async update(sql: string, params: Param[] = []) {
      return ((await send(connection, sql, params)) as ResultSetHeader).affectedRows;
    },
    async insert(sql: string, params: Param[] = []) {
      return Number(((await send(connection, sql, params)) as ResultSetHeader).insertId);
    },
    async run(sql: string, params: Param[] = []) {
      await send(connection, sql, params);
    },
  });

  /** One statement on a connection of the pool, given back afterwards (closed instead, when it broke). */
  const once = async <T>(fn: (executor: Executor) => Promise<T>): Promise<T> => {
    const connection = await acquire();
    try {
      const result = await fn(executorOn(connection));
      connection.release();
      return result;
    } catch (err) {
      giveBack(connection, err);
      throw err;
    }
  };

  return {
    select: (sql, params) => once((executor) => executor.select(sql, params)),
    update: (sql, params) => once((executor) => executor.update(sql, params)),
    insert: (sql, params) => once((executor) => executor.insert(sql, params)),
    run: (sql, params) => once((executor) => executor.run(sql, params)),
    async transaction(fn, options = {}) {
      const connection = await acquire();
      let begun = false;
      try {
        if (options.isolation === 'READ COMMITTED') await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await connection.query('START TRANSACTION');
        begun = true;
        const result = await fn(executorOn(connection));
        await connection.query('COMMIT');
        connection.release();
        return result;
      } catch (err) {
        if (begun) await connection.query('ROLLBACK').catch(() => {});
        giveBack(connection, err);
        throw err;
      }
    },
    async close() {
      await pool.end();
    },
  };
}
