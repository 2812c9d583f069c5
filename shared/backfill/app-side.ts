// The backfill for a mapping whose transform only code can compute (mapping.sql null: a parser, a lookup). The
// SQL path (batch-statements.ts) computes the value inside one UPDATE from the row's own current columns; here
// the value is computed in the app from what was read, so each write is a compare-and-set instead: it names the
// exact bytes it read in both the old and the new columns, and changes nothing when a v1 or v2 write came in
// between (0 rows matched). That row is then read again and judged again (a concurrent updateBoth may have put
// it in sync already), a bounded number of times; a row still changing after that is left for verify and the
// next run (counted). A concurrent write is never overwritten.
// Which rows each direction may touch is the SQL path's (drift-code.ts judges drift as drift-sql.ts does):
// - forward: rows with every old column present whose new column is missing, invalid, or (scope.forwardDifferent)
//   different; never a row whose old columns are NULL (new-only wrote it: the new column is its only copy);
// - reverse: rows whose new column is valid and whose old columns are NULL, or differ and were last written in
//   the scope's window (repair-scope.ts: SQL on updated_at, read with the row and re-checked by the write).
// The rows are read outside the batch's transaction (no lock while the app transforms them); the writes and the
// checkpoint commit together in it (backfill.ts).
import type { Executor, Param } from '../db/connection.ts';
import type { Dialect } from '../db/dialect.ts';
import { judgeRow } from '../drift-code.ts';
import type { Fields, Key, SchemaMapping } from '../mapping-contract.ts';
import type { BackfillDirection } from './batch-statements.ts';
import { keyOf, rangeParams, rangeSql } from './key-range.ts';
import type { BatchRange } from './key-range.ts';
import { lateV1Sql, profileNewerSql, UNRESTRICTED } from './repair-scope.ts';
import type { RepairScope } from './repair-scope.ts';

/** How often one row is read again after its compare-and-set found a concurrent write, before it is left for the next run. */
export const ROW_ATTEMPTS = 5;

/** One row to write, and the bytes it held when it was judged (what the compare-and-set requires). */
export interface RowFix {
  key: Key;
  /** Each old column's value as read (null: NULL). */
  oldRead: (string | null)[];
  /** The new column as read (null: NULL). */
  newRead: string | null;
  /** forward: the new column's JSON; reverse: the old columns. */
  write: { json: string } | { fields: Fields };
  /** Reverse only: copied because the two sides differ, so the scope's window must still hold when it is written. */
  inScopeOnly: boolean;
}

export interface AppSideWriteResult {
  changed: number;
  /** Compare-and-sets that found a concurrent write (each row read again once per miss). */
  rowRetries: number;
  /** Rows still changing after ROW_ATTEMPTS: left to verify and the next run. */
  rowsLeft: number;
}

export function appSideBackfill(dialect: Dialect, mapping: SchemaMapping, direction: BackfillDirection, scope: RepairScope = UNRESTRICTED[direction]) {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const sameBytes = (column: string, param: number) => `NOT ${dialect.bytesDiffer(column, `$${param}`)}`;
  // The new column as text, read and compared the same way: mysql2 parses a JSON column into an object (MariaDB
  // announces the JSON format), and an object has no bytes to compare; CAST AS CHAR gives the text (MariaDB: as
  // stored; MySQL 8: its one normalized form).
  const newText = dialect.name === 'sqlite' ? newColumn : `CAST(${newColumn} AS CHAR)`;
  // Reverse: whether a differing row was last written in the window where the new column holds its newest write.
  const inScopeSql = `(${profileNewerSql(scope)} AND NOT ${lateV1Sql(scope)})`;
  const columns = [key, ...oldColumnNames, newText === newColumn ? newColumn : `${newText} AS ${newColumn}`, ...(direction === 'reverse' ? [`CASE WHEN ${inScopeSql} THEN 1 ELSE 0 END AS in_scope`] : [])].join(', ');
  // The same candidates the SQL path's WHERE selects before it looks at the values.
  const candidates =
    direction === 'forward' ? oldColumnNames.map((column) => `${column} IS NOT NULL`).join(' AND ') : `${newColumn} IS NOT NULL`;

  const text = (row: Record<string, unknown>, column: string): string | null => {
    const value = row[column];
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw new Error(`${table} ${String(row[key])}: ${column} was read as ${typeof value}, not text: the compare-and-set needs the bytes read`);
    return value;
  };

  /** The fix this row needs in this direction, or null (in sync, or not this direction's to copy). */
  const fixOf = (row: Record<string, unknown>): RowFix | null => {
    const judged = judgeRow(mapping, row);
    const base = { key: keyOf(mapping, row[key]), oldRead: oldColumnNames.map((column) => text(row, column)), newRead: text(row, newColumn) };
    if (direction === 'forward') {
      if (judged.old === null) return null;
      const repair = judged.reason === 'missing' || judged.reason === 'invalid' || (judged.reason === 'different' && scope.forwardDifferent);
      return repair ? { ...base, write: { json: mapping.newJson(judged.old) }, inScopeOnly: false } : null;
    }
    if (judged.fromNew === null) return null;
    if (judged.oldMissing) return { ...base, write: { fields: judged.fromNew }, inScopeOnly: false };
    if (judged.different && Number(row.in_scope) === 1) return { ...base, write: { fields: judged.fromNew }, inScopeOnly: true };
    return null;
  };

  /** UPDATE only while the row holds exactly what was read: true when it matched. */
  const compareAndSet = async (tx: Executor, fix: RowFix): Promise<boolean> => {
    const assigned = 'json' in fix.write ? [[newColumn, fix.write.json] as const] : oldColumnNames.map((column) => [column, (fix.write as { fields: Fields }).fields[column]!] as const);
    const params: Param[] = [...assigned.map(([, value]) => value), fix.key, ...fix.oldRead, fix.newRead];
    const at = assigned.length + 2;
    const guard = [...oldColumnNames.map((column, i) => sameBytes(column, at + i)), sameBytes(newText, at + oldColumnNames.length), ...(fix.inScopeOnly ? [inScopeSql] : [])];
    const sql = `UPDATE ${table} SET ${assigned.map(([column], i) => `${column} = $${i + 1}`).join(', ')} WHERE ${key} = $${assigned.length + 1} AND ${guard.join(' AND ')}`;
    return (await tx.update(sql, params)) > 0;
  };

  return {
    /** The rows of the batch's key range that need a write, judged in code (a plain, non-locking read). */
    async read(ex: Executor, range: BatchRange): Promise<RowFix[]> {
      const rows = await ex.select<Record<string, unknown>>(`SELECT ${columns} FROM ${table} WHERE ${rangeSql(key, range)} AND ${candidates} ORDER BY ${key}`, rangeParams(range));
      return rows.flatMap((row) => fixOf(row) ?? []);
    },
    /** The fixes, each a compare-and-set; a miss reads the row again (inside `tx`) and judges it afresh. */
    async write(tx: Executor, fixes: readonly RowFix[]): Promise<AppSideWriteResult> {
      const result: AppSideWriteResult = { changed: 0, rowRetries: 0, rowsLeft: 0 };
      for (const first of fixes) {
        let fix: RowFix | null = first;
        for (let attempt = 1; fix !== null; attempt++) {
          if (await compareAndSet(tx, fix)) {
            result.changed += 1;
            break;
          }
          if (attempt >= ROW_ATTEMPTS) {
            result.rowsLeft += 1;
            break;
          }
          result.rowRetries += 1;
          const rows: Record<string, unknown>[] = await tx.select<Record<string, unknown>>(`SELECT ${columns} FROM ${table} WHERE ${key} = $1`, [fix.key]);
          fix = rows[0] ? fixOf(rows[0]) : null;
        }
      }
      return result;
    },
    /** Read and judge one row now (tests, and the way back's count). */
    fixOf,
  };
}
