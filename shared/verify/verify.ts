// Verify (checklist: "Monitor for data inconsistencies between old and new columns"): counts drift by write
// mode, in key-range chunks of plain SELECTs (consistent, non-locking reads: nothing waits for verify and verify
// holds nothing), keeps a sample of ids with the fields that differ, and records the result (verify_runs).
// - dual:     profile_data NULL, invalid, or not byte-equal to the old columns (drift-sql.ts);
// - new-only: profile_data NULL or invalid; the old columns are no longer written, so they are not compared
//             (and after contract they do not exist).
// The key range is fixed when it starts; rows written later are checked by the next verify. The start is
// recorded BEFORE anything is read (the gates count a verify as "after the last v1" by that start: a write that
// committed before a read but after a later-recorded start would be missed by a verify that claims to cover it).
import type { Database } from '../db/connection.ts';
import type { WriteMode } from '../flags/registry.ts';
import { tableColumns } from '../migrations/columns.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { SchemaMapping } from '../schema-mapping.ts';
import { driftSql } from '../drift-sql.ts';
import { verifyResults } from './results.ts';
import type { DriftCounts, DriftReason, DriftSample, VerifyRecord } from './results.ts';

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
  /** Runs after the start is recorded and before the first read (verify --replica waits here for the replica to catch up). */
  beforeRead?: () => Promise<void>;
  /** The mapping to check (the active one unless a test says otherwise). */
  mapping?: SchemaMapping;
}

export async function runVerify(db: Database, { mode, chunk = 10_000, sampleSize = 10, sleepMs = 0, owner, onChunk, readFrom = db, beforeRead, mapping = activeMapping }: VerifyOptions): Promise<VerifyRecord> {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const results = verifyResults(db);
  const record = await results.start(mode, owner);
  await beforeRead?.();
  if (mode === 'dual') {
    const columns = await tableColumns(readFrom, table);
    const gone = oldColumnNames.filter((column) => !columns.includes(column));
    if (gone.length > 0) throw new Error(`--mode dual compares the old columns, but ${gone.join(', ')} no longer exist (contracted): use --mode new-only`);
  }
  const drift = driftSql(db.dialect, mapping);
  const [bounds] = await readFrom.select<{ lo: number | string | null; hi: number | string | null }>(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${table}`);
  const rangeStart = bounds?.lo == null ? null : Number(bounds.lo);
  const rangeEnd = bounds?.hi == null ? null : Number(bounds.hi);
  await results.setRange(record.id, { start: rangeStart, end: rangeEnd });

  const counts: DriftCounts = { rowsChecked: 0, missing: 0, invalid: 0, different: 0 };
  const sample: DriftSample[] = [];
  const countDifferent = mode === 'dual' ? `SUM(CASE WHEN ${drift.different} THEN 1 ELSE 0 END)` : '0';
  const drifted = mode === 'dual' ? `(${drift.missing} OR ${drift.invalid} OR ${drift.different})` : `(${drift.missing} OR ${drift.invalid})`;
  const reason = `CASE WHEN ${drift.missing} THEN 'missing' WHEN ${drift.invalid} THEN 'invalid' ELSE 'different' END AS reason`;
  const sampleColumns = mode === 'dual' ? `${key}, ${oldColumnNames.join(', ')}, ${newColumn}, ${reason}` : `${key}, ${newColumn}, ${reason}`;

  for (let lo = rangeStart ?? 1; rangeEnd !== null && lo <= rangeEnd; lo += chunk) {
    const hi = Math.min(rangeEnd, lo + chunk - 1);
    const [row] = await readFrom.select<Record<'checked' | 'missing' | 'invalid' | 'different', number | string | null>>(
      `SELECT COUNT(*) AS checked,
              SUM(CASE WHEN ${drift.missing} THEN 1 ELSE 0 END) AS missing,
              SUM(CASE WHEN ${drift.invalid} THEN 1 ELSE 0 END) AS invalid,
              ${countDifferent} AS different
         FROM ${table} WHERE ${key} >= $1 AND ${key} <= $2`,
      [lo, hi],
    );
    const chunkCounts = { missing: Number(row?.missing ?? 0), invalid: Number(row?.invalid ?? 0), different: Number(row?.different ?? 0) };
    counts.rowsChecked += Number(row?.checked ?? 0);
    counts.missing += chunkCounts.missing;
    counts.invalid += chunkCounts.invalid;
    counts.different += chunkCounts.different;
    if (sample.length < sampleSize && chunkCounts.missing + chunkCounts.invalid + chunkCounts.different > 0) {
      const rows = await readFrom.select<{ reason: string } & Record<string, unknown>>(
        `SELECT ${sampleColumns} FROM ${table} WHERE ${key} >= $1 AND ${key} <= $2 AND ${drifted} ORDER BY ${key} LIMIT ${sampleSize - sample.length}`,
        [lo, hi],
      );
      for (const drifting of rows) sample.push(describeDrift(mapping, drifting));
    }
    onChunk?.({ nextId: hi + 1, rangeStart: rangeStart!, rangeEnd, counts: { ...counts } });
    if (sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepMs));
  }
  return results.finish(record.id, counts, sample);
}

/** The fields that differ, worked out in code with the app's own parser and comparison. */
function describeDrift(mapping: SchemaMapping, row: { reason: string } & Record<string, unknown>): DriftSample {
  const sample: DriftSample = { id: Number(row[mapping.keyColumn]), reason: row.reason as DriftReason, fields: [] };
  const fromNew = mapping.readNew(row[mapping.newColumn]);
  const old = mapping.fieldsOf(row);
  if (sample.reason === 'different' && fromNew && old) sample.fields = mapping.differingFields(fromNew, old);
  return sample;
}
