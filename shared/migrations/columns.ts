// Which columns a table has right now: the contract migration is idempotent with it (a down interrupted
// half-way can run again), and v1 uses it to refuse to start on a contracted schema.
import type { Database } from '../db/connection.ts';

/** The table's column names, or [] when the table does not exist. */
export async function tableColumns(db: Database, table: string): Promise<string[]> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ name: string }>('SELECT name FROM pragma_table_info($1)', [table])
      : await db.select<{ name: string }>('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1', [table]);
  return rows.map((row) => row.name);
}
