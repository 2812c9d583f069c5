// The backfill checkpoint (table backfill_runs, migration 003). A run fixes its key range when it starts;
// next_id says every key below it is done. Each batch moves next_id in the batch's own transaction, guarded
// by the value it expects: if another process moved it meanwhile, the batch rolls back and this process stops
// (two backfills never interleave their checkpoints). updated_at is the run's heartbeat: every checkpoint, and
// every few hundred ms while the run is throttled (it is also what replica-lag measurement reads on a replica).
// Keys that are not numbers (uuid) are kept in the text columns of migration 008: the run's key range and
// done_key, every key up to which is done; next_id then counts rows in key order (the next row's position), so
// it still moves with every batch and guards the checkpoint the same way (a batch over string keys always
// covers at least one row: an empty one ends the run).
import os from 'node:os';
import type { Database, Executor } from '../db/connection.ts';
import { dbTime } from '../db/time.ts';
import type { BackfillDirection } from './batch-statements.ts';

export interface BackfillRun {
  id: number;
  direction: BackfillDirection;
  status: 'running' | 'done' | 'abandoned';
  rangeStart: number;
  rangeEnd: number;
  /** The checkpoint: every key below it is done. */
  nextId: number;
  rowsChanged: number;
  batches: number;
  retries: number;
  owner: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** updated_at is within RUN_STALE_AFTER_MS of the database clock. */
  recentlyUpdated: boolean;
  /**
   * A run over string keys (uuid): its key range and the last key done (null: none yet). Its numbers then count
   * rows: rangeStart 1, rangeEnd the rows counted at the start, nextId the next row's position. Absent or null:
   * integer keys, the numbers are keys.
   */
  stringKeys?: StringKeyRange | null;
}

export interface StringKeyRange {
  start: string;
  end: string;
  /** Every key up to and including this one is done (null: none yet). */
  done: string | null;
}

/** A run whose heartbeat is older than this is no longer being worked on (its process died or hung). */
export const RUN_STALE_AFTER_MS = 5000;

type RawRun = {
  id: number | string;
  direction: string;
  status: string;
  range_start: number | string;
  range_end: number | string;
  next_id: number | string;
  rows_changed: number | string;
  batches: number | string;
  retries: number | string;
  owner: string;
  started_at: string | Date;
  updated_at: string | Date;
  finished_at: string | Date | null;
  recent: number | string;
  /** Migration 008 (absent before it). */
  range_start_key?: string | null;
  range_end_key?: string | null;
  done_key?: string | null;
};

/** host:pid, so a rerun on the same host can tell whether the previous owner is still running. */
export function processOwner(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** False only when the owner is a process on this host that no longer exists. */
export function ownerMayBeRunning(owner: string): boolean {
  const match = /^(.*):(\d+)$/.exec(owner);
  if (!match || match[1] !== os.hostname()) return true;
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function backfillRuns(db: Database) {
  const { now } = db.dialect;
  const columns = `*, CASE WHEN updated_at >= ${db.dialect.nowMinusMs('$1')} THEN 1 ELSE 0 END AS recent`;
  const toRun = (r: RawRun): BackfillRun => ({
    id: Number(r.id),
    direction: r.direction as BackfillDirection,
    status: r.status as BackfillRun['status'],
    rangeStart: Number(r.range_start),
    rangeEnd: Number(r.range_end),
    nextId: Number(r.next_id),
    rowsChanged: Number(r.rows_changed),
    batches: Number(r.batches),
    retries: Number(r.retries),
    owner: r.owner,
    startedAt: dbTime(r.started_at),
    updatedAt: dbTime(r.updated_at),
    finishedAt: r.finished_at === null ? null : dbTime(r.finished_at),
    recentlyUpdated: Number(r.recent) === 1,
    stringKeys: r.range_start_key != null && r.range_end_key != null ? { start: r.range_start_key, end: r.range_end_key, done: r.done_key ?? null } : null,
  });
  const one = async (where: string, params: (string | number)[]) => {
    const [row] = await db.select<RawRun>(`SELECT ${columns} FROM backfill_runs WHERE ${where} ORDER BY id DESC LIMIT 1`, [RUN_STALE_AFTER_MS, ...params]);
    return row ? toRun(row) : null;
  };

  return {
    byId: (id: number) => one('id = $2', [id]),
    /** The newest run that has not finished (at most one is ever running). */
    unfinished: () => one("status = 'running'", []),
    latest: (direction: BackfillDirection) => one('direction = $2', [direction]),
    latestDone: (direction: BackfillDirection) => one("direction = $2 AND status = 'done'", [direction]),

    async create(direction: BackfillDirection, range: { start: number; end: number }, owner: string): Promise<BackfillRun> {
      const id = await db.insert(
        `INSERT INTO backfill_runs (direction, status, range_start, range_end, next_id, rows_changed, batches, retries, owner, started_at, updated_at)
         VALUES ($1, 'running', $2, $3, $2, 0, 0, 0, $4, ${now}, ${now})`,
        [direction, range.start, range.end, owner],
      );
      return (await this.byId(id))!;
    },
    /** A run over string keys from `keys.start` to `keys.end`, whose numbers count its `rows` rows (migration 008). */
    async createStringKeyed(direction: BackfillDirection, keys: { start: string; end: string }, rows: number, owner: string): Promise<BackfillRun> {
      const id = await db.insert(
        `INSERT INTO backfill_runs (direction, status, range_start, range_end, next_id, rows_changed, batches, retries, owner, started_at, updated_at, range_start_key, range_end_key, done_key)
         VALUES ($1, 'running', 1, $2, 1, 0, 0, 0, $3, ${now}, ${now}, $4, $5, NULL)`,
        [direction, rows, owner, keys.start, keys.end],
      );
      return (await this.byId(id))!;
    },
    async abandon(id: number): Promise<void> {
      await db.update(`UPDATE backfill_runs SET status = 'abandoned', updated_at = ${now} WHERE id = $1 AND status = 'running'`, [id]);
    },
    /** Inside the batch's transaction: moves the checkpoint from `from` to `to`; false if another process moved it. */
    async checkpoint(
      tx: Executor,
      id: number,
      { from, to, changed, retries, owner, doneKey }: { from: number; to: number; changed: number; retries: number; owner: string; doneKey?: string },
    ): Promise<boolean> {
      // A string-keyed run also records the last key its batch covered; an integer run's statement is unchanged.
      const matched = await tx.update(
        `UPDATE backfill_runs SET next_id = $1, rows_changed = rows_changed + $2, batches = batches + 1, retries = retries + $3, owner = $4, updated_at = ${now}${doneKey === undefined ? '' : ', done_key = $7'}
         WHERE id = $5 AND next_id = $6 AND status = 'running'`,
        doneKey === undefined ? [to, changed, retries, owner, id, from] : [to, changed, retries, owner, id, from, doneKey],
      );
      return matched === 1;
    },
    /** While throttled: the run is alive (and a replica can measure its lag from this timestamp). */
    async heartbeat(id: number, nextId: number, owner: string): Promise<boolean> {
      const matched = await db.update(`UPDATE backfill_runs SET updated_at = ${now}, owner = $1 WHERE id = $2 AND next_id = $3 AND status = 'running'`, [owner, id, nextId]);
      return matched === 1;
    },
    async finish(id: number, nextId: number): Promise<BackfillRun> {
      await db.update(`UPDATE backfill_runs SET status = 'done', finished_at = ${now}, updated_at = ${now} WHERE id = $1 AND next_id = $2 AND status = 'running'`, [id, nextId]);
      return (await this.byId(id))!;
    },
  };
}

export type BackfillRuns = ReturnType<typeof backfillRuns>;
