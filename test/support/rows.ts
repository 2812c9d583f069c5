// Raw SQL views of the users table for assertions: tests check what the database holds, not only what the
// HTTP answer said.
import type { Database } from '../../shared/db/connection.ts';
import type { Key } from '../../shared/mapping-contract.ts';

export interface StoredUser {
  id: number;
  name: string;
  email: string;
  /** profile_data as stored: null, or the raw text (MariaDB and SQLite) / object (MySQL 8). */
  profileRaw: unknown;
}

/** One row as the database holds it, or undefined. */
export async function storedUser(db: Database, id: Key): Promise<StoredUser | undefined> {
  const [row] = await db.select<{ id: number | string; name: string; email: string; profile_data: unknown }>(
    'SELECT id, name, email, profile_data FROM users WHERE id = $1',
    [id],
  );
  return row && { id: Number(row.id), name: row.name, email: row.email, profileRaw: row.profile_data };
}

/** profile_data parsed without any leniency: a string is JSON text (MariaDB, SQLite), an object is MySQL 8's. */
export function storedProfile(raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  return typeof raw === 'string' ? JSON.parse(raw) : raw;
}

/** profile_data written with raw SQL, as a test's way of simulating drift the app did not cause. */
export async function setStoredProfile(db: Database, id: Key, raw: string | null): Promise<void> {
  const matched = await db.update('UPDATE users SET profile_data = $1 WHERE id = $2', [raw, id]);
  if (matched !== 1) throw new Error(`no user ${id}`);
}

/**
 * Every row of users with every column (timestamps included) in id order, as one string: equal before and
 * after means no row was inserted, deleted or changed.
 */
export async function usersTableSnapshot(db: Database): Promise<string> {
  const rows = await db.select<Record<string, unknown>>('SELECT * FROM users ORDER BY id');
  return JSON.stringify(rows);
}
