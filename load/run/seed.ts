// The users that exist before the rollout starts, as v1 would have written them (old columns only): the demo's
// (DEMO_SEED_USERS, 200 by default) and the workshop sandbox's (20,000, so that a throttled backfill takes about a
// minute and attendees can watch it, pause it and resume it). Inserted in multi-row statements (one per batch, in
// one transaction each): 20,000 single-row inserts take minutes on a laptop's SQLite, batches take seconds.
// Seed before any load starts: each batch's keys are the ones its INSERT made (shared/db/users-repository.ts:
// consecutive for integer keys, assigned by the app for UUIDs).
import type { Database } from '../../shared/db/connection.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import type { InitialValue } from '../proof/history.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { historyValue } from '../proof/history.ts';

/** Rows per INSERT at most (fewer when the mapping's columns would pass SQLite's oldest limit of 999 bound parameters). */
export const SEED_BATCH_ROWS = 400;

/** Inserts `count` users into the old columns, as v1 would have; returns them in insertion order. */
export async function seedUsers(db: Database, count: number, { prefix = 'seed', onBatch }: { prefix?: string; onBatch?: (done: number) => void } = {}): Promise<InitialValue[]> {
  const users = usersRepository(db);
  const perInsert = Math.min(SEED_BATCH_ROWS, users.maxRowsPerInsert());
  const seeded: InitialValue[] = [];
  for (let start = 1; start <= count; start += perInsert) {
    const rows = Math.min(perInsert, count - start + 1);
    const batch = Array.from({ length: rows }, (_, i) => mapping.sampleFields(`${prefix}${start + i}`, 'example.test'));
    const keys = await db.transaction((tx) => users.insertMany(batch, {}, tx));
    keys.forEach((key, i) => seeded.push({ key: String(key), value: historyValue(mapping.oldColumnNames, batch[i]!) }));
    onBatch?.(start + rows - 1);
  }
  return seeded;
}
