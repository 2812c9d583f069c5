// The backfill's side of the bench: the batched backfill (cli/backfill.ts, as a process, start-up included)
// against the physical limit, one `UPDATE users SET profile_data = JSON_OBJECT('name', name, 'email', email)`,
// on a database of its own. Each measurement starts from a freshly seeded table with the same history, after
// InnoDB has flushed and purged the seed's work: a table whose rows were already grown once (or whose old
// versions are still being purged) is faster or slower to update again, and timing an UPDATE while the server
// still writes back the previous table's pages varied by a third here.
import mysql from 'mysql2/promise';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { spawnTool } from '../run/operator.ts';
import { ownDatabase } from '../infra/cleanup.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { requireSql } from '../../shared/mapping-contract.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { redoFillFromStatus } from '../../shared/backfill/throttle.ts';

export interface BackfillTable {
  /** DATABASE_URL of the database holding the table. */
  url: string;
  database: string;
  rows: number;
  /** Whether InnoDB was quiet before the measurement (false: another client kept it busy past the deadline). */
  quiet: boolean;
}

export class BackfillBench {
  private constructor(
    private readonly admin: mysql.Connection,
    private readonly mysqlUrl: string,
    private readonly created = new Map<string, () => void>(),
  ) {}

  static async connect(mysqlUrl: string): Promise<BackfillBench> {
    return new BackfillBench(await mysql.createConnection({ uri: mysqlUrl }), mysqlUrl);
  }

  async serverVersion(): Promise<string> {
    const [rows] = (await this.admin.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
    return rows[0]!.v;
  }

  /** A fresh database at the current schema (profile_data NULL everywhere) with `rows` users; waits for a quiet server. */
  async freshTable(database: string, rows: number, quietMs = 30_000): Promise<BackfillTable> {
    if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`freshTable: bad database name ${database}`);
    await this.admin.query(`DROP DATABASE IF EXISTS ${database}`);
    // Owned before it exists: an interrupt (or the reaper) drops it even if CREATE was the last thing done.
    if (!this.created.has(database)) this.created.set(database, ownDatabase(this.mysqlUrl, database));
    await this.admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const url = `${this.mysqlUrl.replace(/\/?$/, '/')}${database}`;
    await migrateAndSeed(url, rows);
    const quiet = await this.quietServer(quietMs);
    return { url, database, rows, quiet };
  }

  /**
   * Waits until InnoDB has caught up with the earlier writes, so every measurement starts from the same state:
   * purge done (history list under 1,000) and the redo log's checkpoint age under 10% of its maximum, the point
   * below which InnoDB's adaptive flushing rests (innodb_adaptive_flushing_lwm). Not "no dirty page left": at
   * MariaDB's default innodb_io_capacity (200) the last few hundred pages wait for idle flushing, which took
   * longer than 15 s after every 200,000-row write here, and the ABBA order gives both contenders that state
   * anyway. Or, above 10%, no longer falling over the last QUIET_STEADY_MS: MariaDB 10.5+ flushes in proportion to
   * the redo written, so an idle server can stay at 80-85% of the maximum for minutes (seen here, and why the
   * backfill's redo wait waits only while the age falls); waiting on for 10% then only burnt the whole deadline
   * before every measurement. False when the deadline came first (another client kept the server busy).
   */
  async quietServer(deadlineMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + deadlineMs;
    let quiet = false;
    const fills: number[] = [];
    while (deadlineMs > 0) {
      const { historyLength, redoFill } = await this.innodbState();
      fills.push(redoFill ?? 0);
      quiet = historyLength < 1000 && redoSettled(fills);
      if (quiet || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, QUIET_PROBE_MS));
    }
    if (deadlineMs > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    return quiet;
  }

  /** Purge's backlog, and the redo log's fill in percent as the backfill's throttle reads it (null: not reported). */
  async innodbState(): Promise<{ historyLength: number; redoFill: number | null }> {
    const [rows] = (await this.admin.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_history_list_length', 'Innodb_checkpoint_age', 'Innodb_checkpoint_max_age', 'Innodb_redo_log_current_lsn', 'Innodb_redo_log_checkpoint_lsn', 'Innodb_redo_log_capacity_resized')",
    )) as unknown as [{ Variable_name: string; Value: string }[]];
    const history = rows.find((row) => row.Variable_name === 'Innodb_history_list_length');
    return { historyLength: Number(history?.Value ?? 0), redoFill: redoFillFromStatus(rows) };
  }

  /** The physical limit: every row in one statement. */
  async timeOneStatement(table: BackfillTable): Promise<number> {
    const db = await connectDatabase(table.url, { poolMax: 1 });
    try {
      const started = performance.now();
      await db.run(`UPDATE ${mapping.table} SET ${mapping.newColumn} = ${requireSql(mapping, 'the bench').newFromOldSql(db.dialect)}`);
      return performance.now() - started;
    } finally {
      await db.close();
    }
  }

  /** Rows the backfill (or the one UPDATE) left without profile_data: must be 0 after either. */
  async missing(table: BackfillTable): Promise<number> {
    const [rows] = (await this.admin.query(`SELECT COUNT(*) AS missing FROM ${table.database}.${mapping.table} WHERE ${mapping.newColumn} IS NULL`)) as unknown as [{ missing: number }[]];
    return Number(rows[0]!.missing);
  }

  async dropAll(): Promise<void> {
    for (const [database, release] of this.created) {
      await this.admin.query(`DROP DATABASE IF EXISTS ${database}`);
      release();
    }
    this.created.clear();
  }

  async close(): Promise<void> {
    await this.dropAll();
    await this.admin.end();
  }
}

/** The database at `url` migrated to the current schema and given `rows` users in the old columns only. */
export async function migrateAndSeed(url: string, rows: number): Promise<void> {
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    await migrateUp(db);
    await seedOldRows(db, rows);
  } finally {
    await db.close();
  }
}

/** `rows` users with only the old columns (profile_data NULL), unique names and emails, in a few statements. */
export async function seedOldRows(db: Database, rows: number): Promise<void> {
  const { table, keyColumn: key, oldColumns } = mapping;
  const seed = Array.from({ length: Math.min(rows, 1000) }, (_, i) => mapping.sampleFields(`user-${i}`, 'example.test'));
  await usersRepository(db).insertMany(seed);
  // Doubling: each INSERT ... SELECT copies as many rows as exist, each value made unique with the row's key
  // (in front of an email address, so that it stays one).
  const unique = oldColumns.map((column) => (column.format === 'email-address' ? `CONCAT(${key}, '.', ${column.name})` : `CONCAT(${column.name}, '-', ${key})`));
  const names = oldColumns.map((column) => column.name).join(', ');
  for (let count = seed.length; count < rows; count += Math.min(count, rows - count)) {
    await db.run(
      `INSERT INTO ${table} (${names}, created_at, updated_at)
       SELECT ${unique.join(', ')}, created_at, updated_at FROM ${table} ORDER BY ${key} LIMIT ${Math.min(count, rows - count)}`,
    );
  }
}

/**
 * `node --import tsx cli/backfill.ts` as a process, spawn to exit; throws on a non-zero exit. With `stopAfterMs`,
 * interrupted then (SIGINT, as an operator stops it: it ends after its current batch, resumable), and `stopped`
 * says whether it was still running.
 */
export async function timeBackfillProcess(
  table: BackfillTable,
  args: string[] = [],
  { stopAfterMs }: { stopAfterMs?: number } = {},
): Promise<{ ms: number; output: string; stopped: boolean; spawnedAt: number; workStartedAt: number | null }> {
  const started = performance.now();
  const child = spawnTool('backfill', args, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: table.url });
  let output = '';
  let stopped = false;
  // When its first line ("backfill run #N ... over keys ...") came: started, connected, about to run its first batch.
  let workStartedAt: number | null = null;
  child.stdout!.on('data', (chunk) => {
    output += chunk;
    if (workStartedAt === null && /backfill run #\d+/.test(output)) workStartedAt = performance.now();
  });
  child.stderr!.on('data', (chunk) => (output += chunk));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = stopAfterMs === undefined ? null : setTimeout(() => ((stopped = true), child.kill('SIGINT')), stopAfterMs);
  const code = await closed;
  if (timer) clearTimeout(timer);
  const ms = performance.now() - started;
  // 130: interrupted as asked (cli/backfill.ts's own exit code for SIGINT); a run that ended first exits 0.
  if (code !== 0 && !(stopped && code === 130)) throw new Error(`cli/backfill.ts exited ${code}:\n${output}`);
  return { ms, output, stopped: stopped && code === 130, spawnedAt: started, workStartedAt };
}

/** Rows of the table whose profile_data is filled. */
export async function filledRows(table: BackfillTable): Promise<number> {
  const db = await connectDatabase(table.url, { poolMax: 1 });
  try {
    const [row] = await db.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${mapping.table} WHERE ${mapping.newColumn} IS NOT NULL`);
    return Number(row!.n);
  } finally {
    await db.close();
  }
}

/** The backfill's own summary lines (its rate as it saw it). */
export function backfillSummaryLines(output: string): string[] {
  return output.trim().split('\n').filter((line) => /done|this process|whole run/.test(line));
}

const QUIET_PROBE_MS = 250;
/** How long the checkpoint age must have stopped falling for a server above 10% to count as settled. */
const QUIET_STEADY_MS = 2000;

/**
 * The redo log's fill (percent of InnoDB's maximum checkpoint age, one probe every QUIET_PROBE_MS, oldest first)
 * is settled: under 10%, where adaptive flushing rests; or no lower now than QUIET_STEADY_MS ago, less half a
 * point (still falling: the page cleaner is catching up, so wait on).
 */
export function redoSettled(fills: readonly number[]): boolean {
  const now = fills[fills.length - 1];
  if (now === undefined) return false;
  if (now < 10) return true;
  const probes = QUIET_STEADY_MS / QUIET_PROBE_MS;
  if (fills.length <= probes) return false;
  return now >= fills[fills.length - 1 - probes]! - 0.5;
}
