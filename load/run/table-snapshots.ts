// Database snapshots at every step boundary, for the checker: every row with whichever of the old and new
// columns exist at that point of the rollout (no new column before expand, no old columns after contract).
// The checker never imports the mapping: the snapshot hands it rows in the history's format, the new column
// already read back through the mapping (new -> old) as JSON, or as stored when the mapping rejects it (so the
// checker sees it as invalid).
import type { Database } from '../../shared/db/connection.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';
import { mapping } from '../../shared/schema-mapping.ts';

export interface SnapshotRow {
  id: number;
  name: string | null;
  email: string | null;
  profileData: unknown;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export async function snapshotUsers(db: Database): Promise<SnapshotRow[]> {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const columns = new Set(await tableColumns(db, table));
  const present = [...oldColumnNames, newColumn].filter((column) => columns.has(column));
  const rows = await db.select<Record<string, unknown>>(`SELECT ${[key, ...present].join(', ')} FROM ${table} ORDER BY ${key}`);
  return rows.map((row) => {
    const raw = row[newColumn] ?? null;
    const fromNew = raw === null ? null : mapping.readNew(raw);
    return { id: Number(row[key]), name: text(row.name), email: text(row.email), profileData: fromNew ? JSON.stringify(fromNew) : raw };
  });
}
