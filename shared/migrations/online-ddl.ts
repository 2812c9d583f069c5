// Online DDL: every schema change on a live table runs with a short metadata-lock wait and retries.
// Why: an ALTER waits for a metadata lock behind any open transaction on the table, and every query that
// arrives after it queues behind the ALTER. With MySQL's default lock_wait_timeout (one day) one forgotten
// transaction turns a 1 ms instant ALTER into a full outage of `users`. A 2 s wait bounds that stall; the
// retry makes the migration succeed once the long transaction ends.
import type { Database } from '../db/connection.ts';
import { isAlterAlgorithmRefused, isTransient, withRetry } from '../db/errors.ts';

export interface OnlineDdlOptions {
  lockWaitTimeoutS?: number;
  attempts?: number;
  log?: (line: string) => void;
}

export async function runOnlineDdl(db: Database, sql: string, { lockWaitTimeoutS = 2, attempts = 30, log = () => {} }: OnlineDdlOptions = {}): Promise<void> {
  await withRetry(
    async () => {
      if (db.dialect.name === 'sqlite') {
        // BEGIN IMMEDIATE takes the write lock up front and waits for it (busy timeout); SQLite's ADD/DROP COLUMN
        // edits the schema in place, never copying the table.
        await db.transaction((tx) => tx.run(sql));
        return;
      }
      await onOneSession(db, [`SET SESSION lock_wait_timeout = ${Number(lockWaitTimeoutS)}`, sql]);
    },
    {
      attempts,
      baseMs: 250,
      maxMs: 4000,
      onRetry: (err, attempt) =>
        log(`  waiting for a lock on the table (attempt ${attempt}/${attempts}): ${(err as Error).message.split('\n')[0]}; an open transaction holds it`),
    },
  ).catch((err: unknown) => {
    if (/ALGORITHM=INSTANT/i.test(sql) && isAlterAlgorithmRefused(err)) {
      // Refused before anything changed. No silent fallback: the alternatives copy or rebuild the table, which
      // takes time and I/O in proportion to it, a decision for the operator.
      throw new Error(
        `ALGORITHM=INSTANT was refused (${(err as Error).message.split('\n')[0]}): this table cannot take the change instantly ` +
          '(a FULLTEXT index, ROW_FORMAT=COMPRESSED, or on MySQL 64 row versions since the last rebuild). Nothing changed. ' +
          'Online alternatives: run the same change with ALGORITHM=INPLACE, LOCK=NONE (an online rebuild inside InnoDB: reads ' +
          'and writes continue, time and I/O grow with the table), or with gh-ost or pt-online-schema-change (a copy you can ' +
          `throttle, pause and cut over). Statement: ${sql}`,
      );
    }
    if (isTransient(err)) {
      throw new Error(`gave up after ${attempts} attempts waiting for a lock; find the long transaction (SHOW PROCESSLIST) and retry: ${sql}`);
    }
    throw err;
  });
}

type RawMysqlConnection = { query(sql: string, cb: (err: Error | null) => void): void };

/** Runs statements on one pooled MySQL connection, so a session variable applies to the statement after it. */
async function onOneSession(db: Database, statements: string[]): Promise<void> {
  const manager = db.sequelize.connectionManager as unknown as {
    getConnection(options: object): Promise<RawMysqlConnection>;
    releaseConnection(connection: RawMysqlConnection): Promise<void>;
  };
  const connection = await manager.getConnection({ type: 'write' });
  try {
    for (const sql of statements) {
      await new Promise<void>((resolve, reject) => connection.query(sql, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    await manager.releaseConnection(connection);
  }
}
