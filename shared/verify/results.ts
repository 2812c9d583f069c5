// The verify history (table verify_runs, migration 004): each verify records itself when it starts and its
// counts when it finishes. The rollout's gates read it; an unfinished verify never counts as clean.
import type { Database } from '../db/connection.ts';
import { dbTime } from '../db/time.ts';
import type { WriteMode } from '../flags/registry.ts';
import type { Key } from '../mapping-contract.ts';

export type DriftReason = 'missing' | 'invalid' | 'different';

export interface DriftSample {
  /** The row's key (a number for integer keys, a string for uuid keys). */
  id: Key;
  reason: DriftReason;
  /** For 'different': the old columns whose value profile_data does not hold byte for byte. */
  fields: string[];
}

export interface DriftCounts {
  rowsChecked: number;
  missing: number;
  invalid: number;
  different: number;
}

export interface VerifyRecord extends DriftCounts {
  id: number;
  mode: WriteMode;
  startedAt: string;
  finishedAt: string | null;
  /** Integer keys: the key range checked (null: an empty table, or string keys). */
  rangeStart: number | null;
  rangeEnd: number | null;
  drift: number;
  sample: DriftSample[];
  /** The key range checked, for any key type (string keys live in migration 008's columns); null: an empty table. */
  keyRange?: { start: Key; end: Key } | null;
}

type RawRecord = {
  id: number | string;
  mode: string;
  started_at: string | Date;
  finished_at: string | Date | null;
  range_start: number | string | null;
  range_end: number | string | null;
  rows_checked: number | string;
  missing: number | string;
  invalid: number | string;
  different: number | string;
  drift: number | string;
  sample: string | null;
  /** Migration 008 (absent before it). */
  range_start_key?: string | null;
  range_end_key?: string | null;
};

const toRecord = (r: RawRecord): VerifyRecord => ({
  id: Number(r.id),
  mode: r.mode as WriteMode,
  startedAt: dbTime(r.started_at),
  finishedAt: r.finished_at === null ? null : dbTime(r.finished_at),
  rangeStart: r.range_start === null ? null : Number(r.range_start),
  rangeEnd: r.range_end === null ? null : Number(r.range_end),
  rowsChecked: Number(r.rows_checked),
  missing: Number(r.missing),
  invalid: Number(r.invalid),
  different: Number(r.different),
  drift: Number(r.drift),
  sample: r.sample ? (JSON.parse(r.sample) as DriftSample[]) : [],
  keyRange:
    r.range_start_key != null && r.range_end_key != null
      ? { start: r.range_start_key, end: r.range_end_key }
      : r.range_start === null || r.range_end === null
        ? null
        : { start: Number(r.range_start), end: Number(r.range_end) },
});

export function verifyResults(db: Database) {
  const { now } = db.dialect;
  return {
    /** Records the start (the database clock now), before verify reads anything; the key range follows. */
    async start(mode: WriteMode, owner: string): Promise<VerifyRecord> {
      const id = await db.insert(
        `INSERT INTO verify_runs (mode, started_at, range_start, range_end, rows_checked, missing, invalid, different, drift, owner)
         VALUES ($1, ${now}, NULL, NULL, 0, 0, 0, 0, 0, $2)`,
        [mode, owner],
      );
      return (await this.byId(id))!;
    },
    async setRange(id: number, range: { start: Key | null; end: Key | null }): Promise<void> {
      // String keys go to migration 008's text columns; integer keys where they always went.
      if (typeof range.start === 'string' || typeof range.end === 'string') {
        await db.update('UPDATE verify_runs SET range_start_key = $1, range_end_key = $2 WHERE id = $3', [range.start, range.end, id]);
        return;
      }
      await db.update('UPDATE verify_runs SET range_start = $1, range_end = $2 WHERE id = $3', [range.start, range.end, id]);
    },
    async finish(id: number, counts: DriftCounts, sample: DriftSample[]): Promise<VerifyRecord> {
      await db.update(
        `UPDATE verify_runs SET finished_at = ${now}, rows_checked = $1, missing = $2, invalid = $3, different = $4, drift = $5, sample = $6 WHERE id = $7`,
        [counts.rowsChecked, counts.missing, counts.invalid, counts.different, counts.missing + counts.invalid + counts.different, JSON.stringify(sample), id],
      );
      return (await this.byId(id))!;
    },
    async byId(id: number): Promise<VerifyRecord | null> {
      const [row] = await db.select<RawRecord>('SELECT * FROM verify_runs WHERE id = $1', [id]);
      return row ? toRecord(row) : null;
    },
    /** Finished verifies, newest first (optionally of one mode). */
    async finished({ mode, limit = 20 }: { mode?: WriteMode; limit?: number } = {}): Promise<VerifyRecord[]> {
      const rows = await db.select<RawRecord>(
        `SELECT * FROM verify_runs WHERE finished_at IS NOT NULL ${mode ? 'AND mode = $1' : ''} ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
        mode ? [mode] : [],
      );
      return rows.map(toRecord);
    },
    /** The newest finished clean verify of a mode that started at or after `since` (database clock), if any. */
    async cleanSince(mode: WriteMode, since: string | null): Promise<VerifyRecord | null> {
      const rows = await db.select<RawRecord>(
        `SELECT * FROM verify_runs WHERE finished_at IS NOT NULL AND mode = $1 AND drift = 0 ${since ? 'AND started_at > $2' : ''} ORDER BY id DESC LIMIT 1`,
        since ? [mode, since] : [mode],
      );
      return rows[0] ? toRecord(rows[0]) : null;
    },
  };
}
