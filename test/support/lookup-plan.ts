// What the database plans for a lookup through the index (test/app-v2/lookups.test.ts, test/template/orders-lookups.test.ts):
// the very statement the repository sends, recorded, then explained.
import type { Database, Param } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';

/**
 * The index the database uses for the statement findByLookupNew sends: MySQL/MariaDB EXPLAIN's `key`; SQLite's
 * EXPLAIN QUERY PLAN detail (`SEARCH users USING INDEX users_by_email (<expr>=?)`).
 */
export async function lookupPlan(db: Database, value: string): Promise<string> {
  const sent: { sql: string; params: Param[] }[] = [];
  const recording: Database = Object.create(db, {
    select: { value: (sql: string, params: Param[] = []) => (sent.push({ sql, params }), db.select(sql, params)) },
  });
  await usersRepository(recording).findByLookupNew(value, 100);
  const [{ sql, params }] = sent as [(typeof sent)[0]];
  if (db.dialect.name === 'sqlite') return (await db.select<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => row.detail).join('; ');
  return (await db.select<{ key: string | null }>(`EXPLAIN ${sql}`, params)).map((row) => `key=${row.key}`).join('; ');
}
