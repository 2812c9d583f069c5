// The users that exist before the rollout starts, as v1 would have written them (old columns only): the demo's
// (DEMO_SEED_USERS, 200 by default) and the workshop sandbox's (20,000, so that a throttled backfill takes about a
// minute and attendees can watch it, pause it and resume it). Inserted in multi-row statements (one per batch, in
// one transaction each): 20,000 single-row inserts take minutes on a laptop's SQLite, batches take seconds.
// Seed before any load starts: the rows returned are every row with an id above the table's highest before.
import type { Database } from '../../shared/db/connection.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import type { InitialValue } from '../proof/history.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { historyValue } from '../proof/history.ts';

/** Rows per INSERT at most (fewer when the mapping's columns would pass SQLite's oldest limit of 999 bound parameters). */
export const SEED_BATCH_ROWS = 400;

/** Inserts `count` users into the old columns, as v1 would have; returns them, ids ascending. */
export async function seedUsers(db: Database, count: number, { prefix = 'seed', onBatch }: { prefix?: string; onBatch?: (done: number) => void } = {}): Promise<InitialValue[]> {
  const { table, keyColumn: key } = mapping;
  const users = usersRepository(db);
  const perInsert = Math.min(SEED_BATCH_ROWS, users.maxRowsPerInsert());
  const [before] = await db.select<{ maxId: number | string | null }>(`SELECT MAX(${key}) AS maxId FROM ${table}`);
  const after = Number(before?.maxId ?? 0);
  for (let start = 1; start <= count; start += perInsert) {
    const rows = Math.min(perInsert, count - start + 1);
    const batch = Array.from({ length: rows }, (_, i) => mapping.sampleFields(`${prefix}${start + i}`, 'example.test'));
    await db.transaction((tx) => users.insertMany(batch, {}, tx));
    onBatch?.(start + rows - 1);
  }
  const seeded = await db.select<Record<string, unknown>>(`SELECT ${key}, ${mapping.oldColumnNames.join(', ')} FROM ${table} WHERE ${key} > $1 ORDER BY ${key}`, [after]);
  return seeded.map((row) => ({ key: String(row[key]), value: historyValue(mapping.oldColumnNames, row) }));
}
