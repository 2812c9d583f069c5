// The one statement each backfill batch runs, derived from the schema mapping and from verify's definition of
// drift, so the backfill repairs exactly what verify counts.
// The value is computed INSIDE the UPDATE from the row's own current columns, never from values read earlier:
// whatever v1 or v2 commits concurrently, the batch writes what the row holds at that instant, so it can never
// put older data into a row. Rows already in sync are not touched (no write, no binlog churn, no lock held).
import type { Dialect } from '../db/dialect.ts';
import { requireSql } from '../mapping-contract.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { SchemaMapping } from '../schema-mapping.ts';
import { lateV1Sql, profileNewerSql, UNRESTRICTED } from './repair-scope.ts';
import type { RepairScope } from './repair-scope.ts';
import { driftSql } from '../drift-sql.ts';
import { rangeSql } from './key-range.ts';

/** forward: profile_data from the old columns (the truth until live). reverse: the old columns from profile_data (the way back from new-only). */
export const BACKFILL_DIRECTIONS = ['forward', 'reverse'] as const;
export type BackfillDirection = (typeof BACKFILL_DIRECTIONS)[number];

/**
 * UPDATE for the keys $1..$2 (inclusive; with lowerExclusive, keys after $1 up to $2: the batches after the first
 * over string keys, key-range.ts); reports how many rows it changed. A row with one side empty is always
 * filled from the other (its only copy, nothing to overwrite); a row whose two sides differ is copied only in
 * the direction `scope` proves (shared/backfill/repair-scope.ts, decided by shared/rollout/way-back.ts), judged on the row's current updated_at inside the
 * statement (a compare-and-set: a row written since the gate judged is not in the window).
 */
export function backfillBatchSql(
  dialect: Dialect,
  direction: BackfillDirection,
  scope: RepairScope = UNRESTRICTED[direction],
  mapping: SchemaMapping = activeMapping,
  { lowerExclusive = false }: { lowerExclusive?: boolean } = {},
): string {
  const drift = driftSql(dialect, mapping);
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const range = rangeSql(key, { lowerExclusive });
  if (direction === 'forward') {
    // Rows whose old columns are NULL were written in new-only: profile_data is their only copy, never overwrite it.
    const oldPresent = oldColumnNames.map((column) => `${column} IS NOT NULL`).join(' AND ');
    const different = scope.forwardDifferent ? ` OR ${drift.different}` : '';
    return `UPDATE ${table} SET ${newColumn} = ${requireSql(mapping, 'the SQL backfill').newFromOldSql(dialect)}
      WHERE ${range} AND ${oldPresent} AND (${drift.missing} OR ${drift.invalid}${different})`;
  }
  // Only rows whose profile_data is valid can give their old columns back: those with an old column NULL (written
  // in new-only, never by v1, which writes both), and differing rows last written where profile_data is newer.
  const oldMissing = oldColumnNames.map((column) => `${column} IS NULL`).join(' OR ');
  const assignments = oldColumnNames.map((column) => `${column} = ${drift.fieldOf[column]}`).join(', ');
  return `UPDATE ${table} SET ${assignments}
      WHERE ${range} AND ${drift.valid} AND ((${oldMissing}) OR (${drift.different} AND ${profileNewerSql(scope)} AND NOT ${lateV1Sql(scope)}))`;
}
