// Database snapshots at every step boundary, for the checker: every row with whichever of the old and new
// columns exist at that point of the rollout (no profile_data before expand, no name/email after contract).
import type { Database } from '../../shared/db/connection.ts';

export interface SnapshotRow {
  id: number;
  name: string | null;
  email: string | null;
  profileData: unknown;
}

export async function columnsOf(db: Database, table: string): Promise<Set<string>> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      : await db.select<{ name: string }>('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1', [table]);
  return new Set(rows.map((r) => r.name));
}

export async function snapshotUsers(db: Database): Promise<SnapshotRow[]> {
  const columns = await columnsOf(db, 'users');
  const pick = (column: string) => (columns.has(column) ? column : `NULL AS ${column}`);
  const rows = await db.select<{ id: number | string; name: string | null; email: string | null; profile_data: unknown }>(
    `SELECT id, ${pick('name')}, ${pick('email')}, ${pick('profile_data')} FROM users ORDER BY id`,
  );
  return rows.map((r) => ({ id: Number(r.id), name: r.name, email: r.email, profileData: r.profile_data }));
}
