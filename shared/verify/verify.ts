// Verify (checklist: "Monitor for data inconsistencies between old and new columns"): counts drift by write
// mode, in key-range chunks of plain SELECTs (consistent, non-locking reads: nothing waits for verify and verify
// holds nothing), keeps a sample of ids with the fields that differ, and records the result (verify_runs).
// - dual:     profile_data NULL, invalid, or not byte-equal to the old columns (drift-sql.ts);
// - new-only: profile_data NULL or invalid; the old columns are no longer written, so they are not compared
//             (and after contract they do not exist).
// The key range is fixed when it starts; rows written later are checked by the next verify. The start is
// recorded BEFORE anything is read (the gates count a verify as "after the last v1" by that start: a write that
// committed before a read but after a later-recorded start would be missed by a verify that claims to cover it).
// Keys of any type (backfill/key-range.ts): integer keys in numeric chunks, string keys (uuid) in chunks read off
// the index by keyset pagination. A mapping without a SQL form (mapping.sql null) is checked in code: each
// chunk's rows are read and judged with the app's own parser (drift-code.ts, the same meaning as drift-sql.ts).
import type { Database } from '../db/connection.ts';
import type { WriteMode } from '../flags/registry.ts';
import { tableColumns } from '../migrations/columns.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { SchemaMapping } from '../schema-mapping.ts';
import { keyBounds, keyOf, nextStringBatch, rangeParams, rangeSql, stringKeyed } from '../backfill/key-range.ts';
import type { BatchRange } from '../backfill/key-range.ts';
import { judgeRow } from '../drift-code.ts';
import { driftSql } from '../drift-sql.ts';
import type { DriftSql } from '../drift-sql.ts';
import type { Key } from '../mapping-contract.ts';
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
  /** After each chunk. Integer keys: nextId..rangeEnd are keys; string keys (unit rows): row positions, rangeEnd the rows counted at the start. */
  onChunk?(progress: { nextId: number; rangeStart: number; rangeEnd: number; counts: DriftCounts; unit?: 'keys' | 'rows' }): void;
  /** Where the rows are read (a replica that has caught up: verify --replica); the result is recorded on `db`. */
  readFrom?: Database;
  /** Runs after the start is recorded and before the first read (verify --replica waits here for the replica to catch up). */
  beforeRead?: () => Promise<void>;
  /** The mapping to check (the active one unless a test says otherwise). */
  mapping?: SchemaMapping;
}

export async function runVerify(db: Database, { mode, chunk = 10_000, sampleSize = 10, sleepMs = 0, owner, onChunk, readFrom = db, beforeRead, mapping = activeMapping }: VerifyOptions): Promise<VerifyRecord> {
  const { table, keyColumn: key, oldColumnNames } = mapping;
  const results = verifyResults(db);
  const record = await results.start(mode, owner);
  await beforeRead?.();
  if (mode === 'dual') {
    const columns = await tableColumns(readFrom, table);
    const gone = oldColumnNames.filter((column) => !columns.includes(column));
    if (gone.length > 0) throw new Error(`--mode dual compares the old columns, but ${gone.join(', ')} no longer exist (contracted): use --mode new-only`);
  }
  const counts: DriftCounts = { rowsChecked: 0, missing: 0, invalid: 0, different: 0 };
  const sample: DriftSample[] = [];
  // SQL form: counted inside the database; none: each chunk's rows read and judged in code.
  const check = mapping.sql === null ? codeChunk(mapping, mode) : sqlChunk(mapping, mode, driftSql(db.dialect, mapping));
  /** One chunk: its counts added, and drifted rows sampled while the sample has room. */
  const checkChunk = async (range: BatchRange) => {
    const chunkCounts = await check(readFrom, range, sampleSize - sample.length, sample);
    counts.rowsChecked += chunkCounts.rowsChecked;
    counts.missing += chunkCounts.missing;
    counts.invalid += chunkCounts.invalid;
    counts.different += chunkCounts.different;
  };
  const pause = () => (sleepMs > 0 ? new Promise((resolve) => setTimeout(resolve, sleepMs)) : undefined);

  if (stringKeyed(mapping)) {
    // No arithmetic on these keys: chunks end at the chunk-th key after the last one checked, progress counts rows.
    const bounds = await keyBounds(readFrom, mapping, { count: true });
    await results.setRange(record.id, { start: bounds?.start ?? null, end: bounds?.end ?? null });
    let after: string | null = null;
    let position = 1;
    while (bounds !== null) {
      const window = await nextStringBatch(readFrom, mapping, { after, start: String(bounds.start), end: String(bounds.end), size: chunk });
      if (window === null) break;
      await checkChunk(window.range);
      after = String(window.range.upper);
      position += window.rows;
      onChunk?.({ nextId: position, rangeStart: 1, rangeEnd: bounds.rows ?? 0, counts: { ...counts }, unit: 'rows' });
      if (after === String(bounds.end)) break;
      await pause();
    }
    return results.finish(record.id, counts, sample);
  }

  const [bounds] = await readFrom.select<{ lo: number | string | null; hi: number | string | null }>(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${table}`);
  const rangeStart = bounds?.lo == null ? null : Number(bounds.lo);
  const rangeEnd = bounds?.hi == null ? null : Number(bounds.hi);
  await results.setRange(record.id, { start: rangeStart, end: rangeEnd });
  for (let lo = rangeStart ?? 1; rangeEnd !== null && lo <= rangeEnd; lo += chunk) {
    const hi = Math.min(rangeEnd, lo + chunk - 1);
    await checkChunk({ lower: lo, lowerExclusive: false, upper: hi });
    onChunk?.({ nextId: hi + 1, rangeStart: rangeStart!, rangeEnd, counts: { ...counts } });
    await pause();
  }
  return results.finish(record.id, counts, sample);
}

/** Counts one chunk's drift and appends up to `room` drifted rows to `sample`. */
type ChunkCheck = (readFrom: Database, range: BatchRange, room: number, sample: DriftSample[]) => Promise<DriftCounts>;

/** In SQL: one aggregate SELECT per chunk, and a second for the sample only when the chunk drifted. */
function sqlChunk(mapping: SchemaMapping, mode: WriteMode, drift: DriftSql): ChunkCheck {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const countDifferent = mode === 'dual' ? `SUM(CASE WHEN ${drift.different} THEN 1 ELSE 0 END)` : '0';
  const drifted = mode === 'dual' ? `(${drift.missing} OR ${drift.invalid} OR ${drift.different})` : `(${drift.missing} OR ${drift.invalid})`;
  const reason = `CASE WHEN ${drift.missing} THEN 'missing' WHEN ${drift.invalid} THEN 'invalid' ELSE 'different' END AS reason`;
  const sampleColumns = mode === 'dual' ? `${key}, ${oldColumnNames.join(', ')}, ${newColumn}, ${reason}` : `${key}, ${newColumn}, ${reason}`;
  return async (readFrom, range, room, sample) => {
    const where = rangeSql(key, range);
    const [row] = await readFrom.select<Record<'checked' | 'missing' | 'invalid' | 'different', number | string | null>>(
      `SELECT COUNT(*) AS checked,
              SUM(CASE WHEN ${drift.missing} THEN 1 ELSE 0 END) AS missing,
              SUM(CASE WHEN ${drift.invalid} THEN 1 ELSE 0 END) AS invalid,
              ${countDifferent} AS different
         FROM ${table} WHERE ${where}`,
      rangeParams(range),
    );
    const counts = { rowsChecked: Number(row?.checked ?? 0), missing: Number(row?.missing ?? 0), invalid: Number(row?.invalid ?? 0), different: Number(row?.different ?? 0) };
    if (room > 0 && counts.missing + counts.invalid + counts.different > 0) {
      const rows = await readFrom.select<{ reason: string } & Record<string, unknown>>(
        `SELECT ${sampleColumns} FROM ${table} WHERE ${where} AND ${drifted} ORDER BY ${key} LIMIT ${room}`,
        rangeParams(range),
      );
      for (const drifting of rows) sample.push(describeDrift(mapping, drifting));
    }
    return counts;
  };
}

/** In code (no SQL form): the chunk's rows read (the old columns only in dual mode) and judged with the app's parser. */
function codeChunk(mapping: SchemaMapping, mode: WriteMode): ChunkCheck {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const compareOld = mode === 'dual';
  const columns = compareOld ? `${key}, ${oldColumnNames.join(', ')}, ${newColumn}` : `${key}, ${newColumn}`;
  return async (readFrom, range, room, sample) => {
    const rows = await readFrom.select<Record<string, unknown>>(`SELECT ${columns} FROM ${table} WHERE ${rangeSql(key, range)} ORDER BY ${key}`, rangeParams(range));
    const counts: DriftCounts = { rowsChecked: rows.length, missing: 0, invalid: 0, different: 0 };
    for (const row of rows) {
      const { reason } = judgeRow(mapping, row, { compareOld });
      if (reason === null) continue;
      counts[reason] += 1;
      if (room > 0) {
        sample.push(describeDrift(mapping, { ...row, reason }));
        room -= 1;
      }
    }
    return counts;
  };
}

/** The fields that differ, worked out in code with the app's own parser and comparison. */
function describeDrift(mapping: SchemaMapping, row: { reason: string } & Record<string, unknown>): DriftSample {
  const id: Key = keyOf(mapping, row[mapping.keyColumn]);
  const sample: DriftSample = { id, reason: row.reason as DriftReason, fields: [] };
  const fromNew = mapping.readNew(row[mapping.newColumn]);
  const old = mapping.fieldsOf(row);
  if (sample.reason === 'different' && fromNew && old) sample.fields = mapping.differingFields(fromNew, old);
  return sample;
}
