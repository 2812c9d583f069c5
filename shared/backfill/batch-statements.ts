// The one statement each backfill batch runs, derived from the schema mapping and from verify's definition of
// drift, so the backfill repairs exactly what verify counts.
// The value is computed INSIDE the UPDATE from the row's own current columns, never from values read earlier:
// whatever v1 or v2 commits concurrently, the batch writes what the row holds at that instant, so it can never
// put older data into a row. Rows already in sync are not touched (no write, no binlog churn, no lock held).
import type { Dialect } from '../db/dialect.ts';
import { NEW_COLUMN, OLD_COLUMNS, profileDataFromOldColumnsSql, USERS_TABLE } from '../schema-mapping.ts';
import { driftSql } from '../verify/drift-sql.ts';

/** forward: profile_data from the old columns (the truth until live). reverse: the old columns from profile_data (the way back from new-only). */
export const BACKFILL_DIRECTIONS = ['forward', 'reverse'] as const;
export type BackfillDirection = (typeof BACKFILL_DIRECTIONS)[number];

/** UPDATE for the keys $1..$2 (inclusive); reports how many rows it changed. */
export function backfillBatchSql(dialect: Dialect, direction: BackfillDirection): string {
  const drift = driftSql(dialect);
  const range = 'id >= $1 AND id <= $2';
  if (direction === 'forward') {
    // Rows whose old columns are NULL were written in new-only: profile_data is their only copy, never overwrite it.
    const oldPresent = OLD_COLUMNS.map((column) => `${column} IS NOT NULL`).join(' AND ');
    return `UPDATE ${USERS_TABLE} SET ${NEW_COLUMN} = ${profileDataFromOldColumnsSql(dialect.jsonObject)}
      WHERE ${range} AND ${oldPresent} AND (${drift.missing} OR ${drift.invalid} OR ${drift.different})`;
  }
  // Only rows whose profile_data is valid can give their old columns back; the others stay as they are (and verify reports them).
  const assignments = OLD_COLUMNS.map((column) => `${column} = ${drift.fieldOf[column]}`).join(', ');
  return `UPDATE ${USERS_TABLE} SET ${assignments} WHERE ${range} AND ${drift.different}`;
}
