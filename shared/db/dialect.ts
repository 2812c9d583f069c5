// Dialect: the few SQL fragments that differ between SQLite, MariaDB and MySQL 8, kept in one place so every
// other module writes one statement. Rules kept here: timestamps come from the database clock (never from an
// app host), and any comparison that decides correctness is byte-exact (MySQL's default collations say
// 'alice' = 'Alice', 'Zoe' = 'Zoë' and 'a' = 'a ').
import type { Executor } from './executor.ts';

export type DialectName = 'sqlite' | 'mariadb' | 'mysql';

export interface Dialect {
  name: DialectName;
  /** The server's version string, for reports. */
  serverVersion: string;
  /** The database clock, with milliseconds. */
  now: string;
  /** The database clock minus a number of milliseconds given as the bind parameter at that position (e.g. `$1`). */
  nowMinusMs(param: string): string;
  /** A JSON object built inside the database from column expressions: `jsonObject({ name: 'name' })`. */
  jsonObject(fields: Record<string, string>): string;
  /**
   * A field of a JSON column as text only when it is a JSON string (else NULL: column NULL, invalid JSON, not an
   * object, field missing or of another type), which is exactly what parseProfileData accepts.
   */
  jsonStringField(column: string, field: string): string;
  /** The condition "the field is present and JSON null" (a mapping may store null, e.g. split-name's last_name). */
  jsonNullField(column: string, field: string): string;
  /** String concatenation (SQLite `||`; CONCAT on MySQL/MariaDB, where `||` means OR by default). */
  concat(parts: readonly string[]): string;
  /** Byte-exact "a is not b", NULL-safe. */
  bytesDiffer(a: string, b: string): string;
  /** The JSON column type for the new column. */
  jsonType: string;
  /** The clause that makes ADD COLUMN instant and online, or '' where the dialect has none. */
  instantAddColumn: string;
}

const sqlite = (serverVersion: string): Dialect => ({
  name: 'sqlite',
  serverVersion,
  now: "strftime('%Y-%m-%d %H:%M:%f','now')",
  nowMinusMs: (param) => `strftime('%Y-%m-%d %H:%M:%f','now', '-' || (${param} / 1000.0) || ' seconds')`,
  jsonObject: (fields) => `json_object(${Object.entries(fields).map(([k, v]) => `'${k}', ${v}`).join(', ')})`,
  // Nested CASE, not AND: json_type raises an error on malformed JSON, and only CASE is guaranteed lazy.
  jsonStringField: (column, field) =>
    `(CASE WHEN json_valid(${column}) THEN (CASE WHEN json_type(${column}, '$.${field}') = 'text' THEN json_extract(${column}, '$.${field}') END) END)`,
  jsonNullField: (column, field) => `(CASE WHEN json_valid(${column}) THEN json_type(${column}, '$.${field}') = 'null' ELSE 0 END)`,
  concat: (parts) => `(${parts.join(' || ')})`,
  // SQLite compares TEXT byte by byte (BINARY collation) already.
  bytesDiffer: (a, b) => `(${a} IS NOT ${b})`,
  jsonType: 'TEXT',
  instantAddColumn: '',
});

const mysqlFamily = (name: 'mariadb' | 'mysql', serverVersion: string): Dialect => ({
  name,
  serverVersion,
  now: 'CURRENT_TIMESTAMP(3)',
  nowMinusMs: (param) => `(CURRENT_TIMESTAMP(3) - INTERVAL ${param} * 1000 MICROSECOND)`,
  jsonObject: (fields) => `JSON_OBJECT(${Object.entries(fields).map(([k, v]) => `'${k}', ${v}`).join(', ')})`,
  // JSON_VALUE alone would turn a number into text ('5'), which the app's parser rejects. And JSON_VALUE returns
  // VARCHAR(512) on MySQL 8 unless told otherwise (RETURNING, which MariaDB lacks): a longer value would be cut
  // and show as permanent drift. JSON_UNQUOTE(JSON_EXTRACT(...)) returns LONGTEXT on both: no width to size.
  jsonStringField: (column, field) =>
    `(CASE WHEN JSON_TYPE(JSON_EXTRACT(${column}, '$.${field}')) = 'STRING' THEN JSON_UNQUOTE(JSON_EXTRACT(${column}, '$.${field}')) END)`,
  jsonNullField: (column, field) => `(JSON_TYPE(JSON_EXTRACT(${column}, '$.${field}')) <=> 'NULL')`,
  concat: (parts) => `CONCAT(${parts.join(', ')})`,
  bytesDiffer: (a, b) => `NOT (CAST(${a} AS BINARY) <=> CAST(${b} AS BINARY))`,
  jsonType: 'JSON',
  // MariaDB accepts LOCK=NONE with INSTANT; MySQL 8 refuses any LOCK clause but DEFAULT with INSTANT
  // (an instant change takes no lock beyond the brief metadata lock anyway).
  instantAddColumn: name === 'mariadb' ? 'ALGORITHM=INSTANT, LOCK=NONE' : 'ALGORITHM=INSTANT',
});

/** A dialect by name, without a server (the SQL each one writes, for unit tests and reports). */
export function dialectNamed(name: DialectName, serverVersion = ''): Dialect {
  return name === 'sqlite' ? sqlite(serverVersion) : mysqlFamily(name, serverVersion);
}

export async function dialectFor(db: Pick<Executor, 'select'>, isSqlite: boolean): Promise<Dialect> {
  if (isSqlite) {
    const [row] = await db.select<{ v: string }>('SELECT sqlite_version() AS v');
    return sqlite(`SQLite ${row?.v ?? '?'}`);
  }
  const [row] = await db.select<{ v: string }>('SELECT VERSION() AS v');
  const version = row?.v ?? '';
  return version.includes('MariaDB') ? mysqlFamily('mariadb', `MariaDB ${version}`) : mysqlFamily('mysql', `MySQL ${version}`);
}
