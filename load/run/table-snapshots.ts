// Database snapshots at every step boundary, for the checker: every row with whichever of the old and new
// columns exist at that point of the rollout (no new column before expand, no old columns after contract).
// The checker never imports the mapping: the snapshot hands it rows in the history's shape (the mapping's old
// columns are the history's fields), the new column already read back through the mapping (new -> old) as a value
// of those fields, or, when the mapping cannot read it back, the reason as text (so the checker sees it as invalid).
import type { Database } from '../../shared/db/connection.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import type { SchemaMapping } from '../../shared/schema-mapping.ts';
import type { SnapshotRow } from '../proof/checker/types.ts';

export type { SnapshotRow } from '../proof/checker/types.ts';

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The new column as the checker judges it: null (NULL), the old columns' values it stands for, or why there are none. */
export function newColumnValue(raw: unknown, through: SchemaMapping = mapping): SnapshotRow['new'] {
  if (raw === null || raw === undefined) return null;
  const fields = through.readNew(raw);
  if (fields) return fields;
  // The reason, for the finding: exactly what the apps would make of it is readNew's null; this only says why.
  if (typeof raw === 'string') {
    try {
      JSON.parse(raw);
    } catch {
      return 'not valid JSON';
    }
  }
  return `not a value the ${through.id} mapping reads back`;
}

/** One row in the checker's shape: `present` says which columns the table has now. */
export function snapshotRow(row: Readonly<Record<string, unknown>>, present: ReadonlySet<string>, through: SchemaMapping = mapping): SnapshotRow {
  const { keyColumn, newColumn, oldColumnNames } = through;
  const hasOld = oldColumnNames.some((column) => present.has(column));
  return {
    key: String(row[keyColumn]),
    old: hasOld ? Object.fromEntries(oldColumnNames.map((column) => [column, text(row[column])])) : null,
    new: present.has(newColumn) ? newColumnValue(row[newColumn], through) : null,
  };
}

export async function snapshotUsers(db: Database): Promise<SnapshotRow[]> {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const columns = new Set(await tableColumns(db, table));
  const present = [...oldColumnNames, newColumn].filter((column) => columns.has(column));
  const rows = await db.select<Record<string, unknown>>(`SELECT ${[key, ...present].join(', ')} FROM ${table} ORDER BY ${key}`);
  const have = new Set(present);
  return rows.map((row) => snapshotRow(row, have));
}
