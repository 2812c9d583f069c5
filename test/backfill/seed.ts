// Rows as v1 writes them (old columns only, profile_data NULL), many at once: the tests of the backfill, verify,
// rollout and contract steps need a few thousand rows to have many batches, and one INSERT per row would cost
// more than the tests themselves.
import type { Database } from '../../shared/db/connection.ts';
import { unique } from '../support/databases.ts';
import type { Key } from '../../shared/mapping-contract.ts';

export interface SeededUsers {
  label: string;
  ids: number[];
  /** name and email of each seeded id, as stored. */
  fields: Map<number, { name: string; email: string }>;
}

export async function seedV1Users(db: Database, count: number, label = unique('seed')): Promise<SeededUsers> {
  const { now } = db.dialect;
  for (let start = 0; start < count; start += 500) {
    const size = Math.min(500, count - start);
    const params = Array.from({ length: size }, (_, k) => [`${label} ${start + k}`, `${label}.${start + k}@example.test`]).flat();
    const values = Array.from({ length: size }, (_, k) => `($${2 * k + 1}, $${2 * k + 2}, ${now}, ${now})`).join(', ');
    await db.run(`INSERT INTO users (name, email, created_at, updated_at) VALUES ${values}`, params);
  }
  const rows = await db.select<{ id: number | string; name: string; email: string }>('SELECT id, name, email FROM users WHERE email LIKE $1 ORDER BY id', [`${label}.%`]);
  return { label, ids: rows.map((r) => Number(r.id)), fields: new Map(rows.map((r) => [Number(r.id), { name: r.name, email: r.email }])) };
}

/** Every row's old columns and parsed profile_data, by id. */
export async function usersById(db: Database): Promise<Map<Key, { name: string | null; email: string | null; profile: unknown }>> {
  const rows = await db.select<{ id: number | string; name: string | null; email: string | null; profile_data: unknown }>('SELECT id, name, email, profile_data FROM users ORDER BY id');
  return new Map(rows.map((r) => [Number(r.id), { name: r.name, email: r.email, profile: r.profile_data === null ? null : typeof r.profile_data === 'string' ? JSON.parse(r.profile_data) : r.profile_data }]));
}
