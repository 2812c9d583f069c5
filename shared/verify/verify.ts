// Verify (checklist: "Monitor for data inconsistencies between old and new columns"): counts drift by write
// mode, in key-range chunks of plain SELECTs (consistent, non-locking reads: nothing waits for verify and verify
// holds nothing), keeps a sample of ids with the fields that differ, and records the result (verify_runs).
// - dual:     profile_data NULL, invalid, or not byte-equal to the old columns (drift-sql.ts);
// - new-only: profile_data NULL or invalid; the old columns are no longer written, so they are not compared
//             (and after contract they do not exist).
// The key range is fixed when it starts; rows written later are checked by the next verify.
import type { Database } from '../db/connection.ts';
import { tableColumns } from '../migrations/columns.ts';
import { differingFields, NEW_COLUMN, OLD_COLUMNS, parseProfileData, USERS_TABLE } from '../schema-mapping.ts';
import { driftSql } from './drift-sql.ts';
import { verifyResults } from './results.ts';
import type { DriftCounts, DriftReason, DriftSample, VerifyRecord } from './results.ts';

export const WRITE_MODES = ['dual', 'new-only'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

export interface VerifyOptions {
  mode: WriteMode;
  /** Keys per chunk (one SELECT each). */
  chunk?: number;
  /** How many drifted ids to keep, with their differing fields. */
  sampleSize?: number;
  /** Pause between chunks, to keep a monitor's load low. */
  sleepMs?: number;
  owner: string;
  onChunk?(progress: { nextId: number; rangeStart: number; rangeEnd: number; counts: DriftCounts }): void;
  /** Where the rows are read (a replica that has caught up: verify --replica); the result is recorded on `db`. */
  readFrom?: Database;
}

export async function runVerify(db: Database, { mode, chunk = 10_000, sampleSize = 10, sleepMs = 0, owner, onChunk, readFrom = db }: VerifyOptions): Promise<VerifyRecord> {
  if (mode === 'dual') {
    const columns = await tableColumns(readFrom, USERS_TABLE);
    const gone = OLD_COLUMNS.filter((column) => !columns.includes(column));
    if (gone.length > 0) throw new Error(`--mode dual compares the old columns, but ${gone.join(', ')} no longer exist (contracted): use --mode new-only`);
  }
  const drift = driftSql(db.dialect);
  const [bounds] = await readFrom.select<{ lo: number | string | null; hi: number | string | null }>(`SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${USERS_TABLE}`);
  const rangeStart = bounds?.lo == null ? null : Number(bounds.lo);
  const rangeEnd = bounds?.hi == null ? null : Number(bounds.hi);
  const results = verifyResults(db);
  const record = await results.start(mode, { start: rangeStart, end: rangeEnd }, owner);

  const counts: DriftCounts = { rowsChecked: 0, missing: 0, invalid: 0, different: 0 };
  const sample: DriftSample[] = [];
  const countDifferent = mode === 'dual' ? `SUM(CASE WHEN ${drift.different} THEN 1 ELSE 0 END)` : '0';
  const drifted = mode === 'dual' ? `(${drift.missing} OR ${drift.invalid} OR ${drift.different})` : `(${drift.missing} OR ${drift.invalid})`;
  const reason = `CASE WHEN ${drift.missing} THEN 'missing' WHEN ${drift.invalid} THEN 'invalid' ELSE 'different' END AS reason`;
  const sampleColumns = mode === 'dual' ? `id, ${OLD_COLUMNS.join(', ')}, ${NEW_COLUMN}, ${reason}` : `id, ${NEW_COLUMN}, ${reason}`;

  for (let lo = rangeStart ?? 1; rangeEnd !== null && lo <= rangeEnd; lo += chunk) {
    const hi = Math.min(rangeEnd, lo + chunk - 1);
    const [row] = await readFrom.select<Record<'checked' | 'missing' | 'invalid' | 'different', number | string | null>>(
      `SELECT COUNT(*) AS checked,
              SUM(CASE WHEN ${drift.missing} THEN 1 ELSE 0 END) AS missing,
              SUM(CASE WHEN ${drift.invalid} THEN 1 ELSE 0 END) AS invalid,
              ${countDifferent} AS different
         FROM ${USERS_TABLE} WHERE id >= $1 AND id <= $2`,
      [lo, hi],
    );
    const chunkCounts = { missing: Number(row?.missing ?? 0), invalid: Number(row?.invalid ?? 0), different: Number(row?.different ?? 0) };
    counts.rowsChecked += Number(row?.checked ?? 0);
    counts.missing += chunkCounts.missing;
    counts.invalid += chunkCounts.invalid;
    counts.different += chunkCounts.different;
    if (sample.length < sampleSize && chunkCounts.missing + chunkCounts.invalid + chunkCounts.different > 0) {
      const rows = await readFrom.select<{ id: number | string; reason: string } & Record<string, unknown>>(
        `SELECT ${sampleColumns} FROM ${USERS_TABLE} WHERE id >= $1 AND id <= $2 AND ${drifted} ORDER BY id LIMIT ${sampleSize - sample.length}`,
        [lo, hi],
      );
      for (const drifting of rows) sample.push(describeDrift(drifting));
    }
    onChunk?.({ nextId: hi + 1, rangeStart: rangeStart!, rangeEnd, counts: { ...counts } });
    if (sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepMs));
  }
  return results.finish(record.id, counts, sample);
}

/** The fields that differ, worked out in code with the app's own parser and comparison. */
function describeDrift(row: { id: number | string; reason: string } & Record<string, unknown>): DriftSample {
  const sample: DriftSample = { id: Number(row.id), reason: row.reason as DriftReason, fields: [] };
  const profile = parseProfileData(row[NEW_COLUMN]);
  if (sample.reason === 'different' && profile) sample.fields = differingFields(profile, { name: row.name as string, email: row.email as string });
  return sample;
}
