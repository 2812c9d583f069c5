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

/**
 * An old column's full MySQL/MariaDB type for a MODIFY or a re-ADD: the mapping's type with the character set and
 * collation the database already has for it (the column's own, or else the table's default), never a hard-coded
 * one: rewriting a `_ci` column as `_bin` is a different column, which no online ALTER can produce in place.
 */
export async function mysqlColumnType(db: Database, table: string, column: { name: string; mysqlType: string }): Promise<string> {
  const [own] = await db.select<{ charset: string | null; collation: string | null }>(
    'SELECT CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1 AND COLUMN_NAME = $2',
    [table, column.name],
  );
  let collation = own?.collation ?? null;
  if (collation === null) {
    const [tableRow] = await db.select<{ collation: string | null }>('SELECT TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1', [table]);
    collation = tableRow?.collation ?? null;
  }
  if (collation === null) return column.mysqlType;
  const charset = own?.charset ?? collation.split('_')[0]!;
  return `${column.mysqlType} CHARACTER SET ${charset} COLLATE ${collation}`;
}
