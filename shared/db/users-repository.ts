// The migrated table: every statement any version runs against it, named after what it touches, built from the
// schema mapping (table, key, old columns, new column). v1 calls only the *Old* functions (it knows nothing of
// the new column); v2's dual-write strategies and dual-read policy call the *Both*/*WithProfile* ones, and in
// write mode new-only only the *NewOnly* ones.
// All statements are parameterized; none is built from input. Placeholders are numbered from the very lists the
// column names come from (sqlValues), so a mapping with more or fewer old columns still lines them up.
import type { Key } from '../mapping-contract.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { Fields, SchemaMapping } from '../schema-mapping.ts';
import type { Database, Executor, Param } from './connection.ts';

export interface User {
  id: Key;
  fields: Fields;
}

/** A row as v2 reads it: the old columns (null when new-only left them out) and the raw new column. */
export interface UserRowWithProfile {
  id: Key;
  fields: Fields | null;
  profileData: unknown;
}

export type UsersRepository = ReturnType<typeof usersRepository>;

/** How often a code-side repair re-reads a row that a concurrent write changed under it before it gives up (the next read repairs it). */
const REPAIR_ATTEMPTS = 5;

/** Column assignments and their bind values, numbered from $1 in the order given. */
export function sqlValues(entries: readonly (readonly [column: string, value: Param | undefined])[], firstParam = 1): { columns: string[]; params: string[]; values: Param[] } {
  return {
    columns: entries.map(([column]) => column),
    params: entries.map((_, i) => `$${firstParam + i}`),
    values: entries.map(([column, value]) => {
      if (value === undefined) throw new Error(`no value for column ${column}`);
      return value;
    }),
  };
}

export function usersRepository(db: Database, mapping: SchemaMapping = activeMapping) {
  /** "Each column holds exactly these bytes" ($first, $first+1, ...): never through a collation, where 'a' = 'A '. */
  const sameBytes = (columnNames: readonly string[], first: number) => columnNames.map((column, i) => `NOT ${db.dialect.bytesDiffer(column, `$${first + i}`)}`).join(' AND ');
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const now = db.dialect.now;
  const profileFromOld = mapping.sql?.newFromOldSql(db.dialect) ?? null;
  /** The key as the mapping types it: drivers give BIGINT as a number or a string, a UUID column as a string. */
  const keyOf = (value: unknown): Key => (mapping.keyType === 'integer' ? Number(value) : String(value));
  const oldEntries = (fields: Fields) => oldColumnNames.map((column) => [column, fields[column]] as const);
  const oldSelect = oldColumnNames.join(', ');
  const toUser = (row: Record<string, unknown>): User => {
    const fields = mapping.fieldsOf(row);
    if (!fields) throw new Error(`${table} ${String(row[key])}: an old column is NULL (written in new-only): read it with the new column`);
    return { id: keyOf(row[key]), fields };
  };

  /** INSERT one row; its key is the app's (uuid: assigned here) or the database's (integer: AUTO_INCREMENT). */
  const insert = async (entries: readonly (readonly [string, Param | undefined])[]): Promise<Key> => {
    const assigned = mapping.newKey();
    const { columns, params, values } = sqlValues(assigned === null ? entries : [[key, assigned], ...entries]);
    const generated = await db.insert(`INSERT INTO ${table} (${columns.join(', ')}, created_at, updated_at) VALUES (${params.join(', ')}, ${now}, ${now})`, values);
    return assigned ?? generated;
  };
  /** UPDATE ... SET the entries (and updated_at unless `touch` is false) WHERE key = id; true when a row matched. */
  const update = async (ex: Executor, id: Key, entries: readonly (readonly [string, Param | undefined])[], { touch = true, extra = '' } = {}): Promise<boolean> => {
    const { columns, params, values } = sqlValues(entries);
    const assignments = columns.map((column, i) => `${column} = ${params[i]}`);
    if (touch) assignments.push(`updated_at = ${now}`);
    const matched = await ex.update(`UPDATE ${table} SET ${[...assignments, ...(extra ? [extra] : [])].join(', ')} WHERE ${key} = $${values.length + 1}`, [...values, id]);
    return matched > 0;
  };

  return {
    // ---- old columns only: v1, and v2's first statement in the `sequential-seed` strategy
    async insertOld(fields: Fields): Promise<User> {
      return { id: await insert(oldEntries(fields)), fields };
    },
    updateOld: (id: Key, fields: Fields, ex: Executor = db): Promise<boolean> => update(ex, id, oldEntries(fields)),
    async findOld(id: Key, ex: Executor = db): Promise<User | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${oldSelect} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? toUser(row) : null;
    },

    /**
     * Many rows in one INSERT (seeding, benches), as v1 writes them (old columns) or, with `withNew`, as v2 does
     * (and the new column from the mapping); returns the new ids in row order. Placeholders come from each row's
     * own list. One multi-row INSERT takes consecutive keys (SQLite; InnoDB in lock modes 1 and 2 for a simple
     * insert); the driver reports the first (MySQL/MariaDB) or the last (SQLite).
     */
    async insertMany(rows: readonly Fields[], { withNew = false }: { withNew?: boolean } = {}, ex: Executor = db): Promise<Key[]> {
      const assigned = rows.map(() => mapping.newKey());
      const built = rows.map((fields, i) => {
        const own = withNew ? [...oldEntries(fields), [newColumn, mapping.newJson(fields)] as const] : oldEntries(fields);
        const entries = assigned[i] === null ? own : [[key, assigned[i]] as const, ...own];
        return sqlValues(entries, 1 + i * entries.length);
      });
      const columns = built[0]?.columns;
      if (!columns) throw new Error('insertMany: no rows');
      const tuples = built.map(({ params }) => `(${params.join(', ')}, ${now}, ${now})`);
      const reported = await ex.insert(`INSERT INTO ${table} (${columns.join(', ')}, created_at, updated_at) VALUES ${tuples.join(', ')}`, built.flatMap(({ values }) => values));
      if (mapping.keyType !== 'integer') return assigned as Key[];
      const first = db.dialect.name === 'sqlite' ? reported - rows.length + 1 : reported;
      return rows.map((_, i) => first + i);
    },
    /** Rows per insertMany that stay under SQLite's oldest limit of 999 bound parameters. */
    maxRowsPerInsert: (withNew = false) => Math.floor(999 / (oldColumnNames.length + (withNew ? 1 : 0) + (mapping.keyType === 'integer' ? 0 : 1))),

    // ---- both columns: v2 dual-write
    async insertBoth(fields: Fields, profileJson: string): Promise<User> {
      return { id: await insert([...oldEntries(fields), [newColumn, profileJson]]), fields };
    },
    /** One statement sets old and new columns together: no torn row, one round trip. */
    updateBoth: (id: Key, fields: Fields, profileJson: string, ex: Executor = db): Promise<boolean> => update(ex, id, [...oldEntries(fields), [newColumn, profileJson]]),
    /**
     * The `sequential` strategy's first statement: the old columns, and the new column marked missing in the same
     * statement, so that the row never holds a new value that differs from its old columns (it is NULL, or,
     * after the second statement, rebuilt from them: repairMissingProfile).
     */
    updateOldClearingNew: (id: Key, fields: Fields): Promise<boolean> => update(db, id, oldEntries(fields), { extra: `${newColumn} = NULL` }),
    updateNew: (id: Key, profileJson: string, ex: Executor = db): Promise<boolean> => update(ex, id, [[newColumn, profileJson]], { touch: false }),
    /** Old and new columns of one row in one query (dual-read never needs a second round trip). */
    async findWithProfile(id: Key, ex: Executor = db): Promise<UserRowWithProfile | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${oldSelect}, ${newColumn} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? { id: keyOf(row[key]), fields: mapping.fieldsOf(row), profileData: row[newColumn] } : null;
    },
    // ---- new column only: v2 in write mode new-only (never names the old columns, which contract drops)
    insertNewOnly: (profileJson: string): Promise<Key> => insert([[newColumn, profileJson]]),
    updateNewOnly: (id: Key, profileJson: string): Promise<boolean> => update(db, id, [[newColumn, profileJson]]),
    async findNewOnly(id: Key, ex: Executor = db): Promise<{ id: Key; profileData: unknown } | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${newColumn} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? { id: keyOf(row[key]), profileData: row[newColumn] } : null;
    },

    /**
     * Fills a missing new column from the row's own current old columns, computed inside the UPDATE: repair on
     * read, and the `sequential` strategy's second statement. It never copies a value the app read earlier (which
     * a concurrent v1 write may already have replaced), and `IS NULL` is the only guard: no `WHERE <old column> = ?`,
     * which a case- or accent-insensitive collation would match against the wrong value.
     */
    async repairMissingProfile(id: Key): Promise<boolean> {
      if (profileFromOld !== null) {
        const matched = await db.update(`UPDATE ${table} SET ${newColumn} = ${profileFromOld} WHERE ${key} = $1 AND ${newColumn} IS NULL`, [id]);
        return matched > 0;
      }
      // Only code can compute the new column: read the old columns, transform, and write only if they still hold
      // exactly those bytes (compare-and-set); a concurrent write in between makes it read again.
      for (let attempt = 0; attempt < REPAIR_ATTEMPTS; attempt++) {
        const [row] = await db.select<Record<string, unknown>>(`SELECT ${oldSelect}, ${newColumn} FROM ${table} WHERE ${key} = $1`, [id]);
        const fields = row ? mapping.fieldsOf(row) : null;
        if (!row || row[newColumn] !== null || !fields) return false;
        const { values } = sqlValues(oldEntries(fields), 3);
        const matched = await db.update(
          `UPDATE ${table} SET ${newColumn} = $1 WHERE ${key} = $2 AND ${newColumn} IS NULL AND ${sameBytes(oldColumnNames, 3)}`,
          [mapping.newJson(fields), id, ...values],
        );
        if (matched > 0) return true;
      }
      return false;
    },
  };
}
