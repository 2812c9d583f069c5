// Database snapshots at every step boundary, for the checker: every row with whichever of the old and new
// columns exist at that point of the rollout (no profile_data before expand, no name/email after contract).
import type { Database } from '../../shared/db/connection.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';

export interface SnapshotRow {
  id: number;
  name: string | null;
  email: string | null;
  profileData: unknown;
}

export async function snapshotUsers(db: Database): Promise<SnapshotRow[]> {
  const columns = new Set(await tableColumns(db, 'users'));
  const pick = (column: string) => (columns.has(column) ? column : `NULL AS ${column}`);
  const rows = await db.select<{ id: number | string; name: string | null; email: string | null; profile_data: unknown }>(
    `SELECT id, ${pick('name')}, ${pick('email')}, ${pick('profile_data')} FROM users ORDER BY id`,
  );
  return rows.map((r) => ({ id: Number(r.id), name: r.name, email: r.email, profileData: r.profile_data }));
}
