// Which migrations are applied, read straight from the runner's history table (schema_migrations, one row per
// applied migration in umzug's SequelizeStorage format) without loading umzug: the rollout's gates run inside
// every admin request and at the start of every backfill, where umzug's load time (~200 ms) is pure overhead.
import type { Database } from '../db/connection.ts';
import { isMissingTable } from '../db/errors.ts';

/** Applied migration names in order (their numbers sort them), or [] before the first migration. */
export async function appliedMigrationNames(db: Database): Promise<string[]> {
  try {
    const rows = await db.select<{ name: string }>('SELECT name FROM schema_migrations');
    return rows.map((row) => row.name).sort();
  } catch (err) {
    if (isMissingTable(err)) return [];
    throw err;
  }
}
