// The migrated table: every statement any version runs against it, named after what it touches, built from the
// schema mapping (table, key, old columns, new column). v1 calls only the *Old* functions (it knows nothing of
// the new column); v2's dual-write strategies and dual-read policy call the *Both*/*WithProfile* ones, and in
// write mode new-only only the *NewOnly* ones.
// All statements are parameterized; none is built from input. Placeholders are numbered from the very lists the
// column names come from (sqlValues), so a mapping with more or fewer old columns still lines them up.
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { Fields, SchemaMapping } from '../schema-mapping.ts';
import type { Database, Executor, Param } from './connection.ts';

export interface User {
  id: number;
  fields: Fields;
}

/** A row as v2 reads it: the old columns (null when new-only left them out) and the raw new column. */
export interface UserRowWithProfile {
  id: number;
  fields: Fields | null;
  profileData: unknown;
}

export type UsersRepository = ReturnType<typeof usersRepository>;

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
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const now = db.dialect.now;
  const profileFromOld = mapping.newFromOldSql(db.dialect);
  const oldEntries = (fields: Fields) => oldColumnNames.map((column) => [column, fields[column]] as const);
  const oldSelect = oldColumnNames.join(', ');
  const toUser = (row: Record<string, unknown>): User => {
    const fields = mapping.fieldsOf(row);
    if (!fields) throw new Error(`${table} ${String(row[key])}: an old column is NULL (written in new-only): read it with the new column`);
    return { id: Number(row[key]), fields };
  };

  const insert = async (entries: readonly (readonly [string, Param | undefined])[]): Promise<number> => {
    const { columns, params, values } = sqlValues(entries);
    return db.insert(`INSERT INTO ${table} (${columns.join(', ')}, created_at, updated_at) VALUES (${params.join(', ')}, ${now}, ${now})`, values);
  };
  /** UPDATE ... SET the entries (and updated_at unless `touch` is false) WHERE key = id; true when a row matched. */
  const update = async (ex: Executor, id: number, entries: readonly (readonly [string, Param | undefined])[], { touch = true, extra = '' } = {}): Promise<boolean> => {
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
    updateOld: (id: number, fields: Fields, ex: Executor = db): Promise<boolean> => update(ex, id, oldEntries(fields)),
    async findOld(id: number, ex: Executor = db): Promise<User | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${oldSelect} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? toUser(row) : null;
    },

    /**
     * Many rows in one INSERT (seeding, benches), as v1 writes them (old columns) or, with `withNew`, as v2 does
     * (and the new column from the mapping); returns the new ids in row order. Placeholders come from each row's
     * own list. One multi-row INSERT takes consecutive keys (SQLite; InnoDB in lock modes 1 and 2 for a simple
     * insert); the driver reports the first (MySQL/MariaDB) or the last (SQLite).
     */
    async insertMany(rows: readonly Fields[], { withNew = false }: { withNew?: boolean } = {}, ex: Executor = db): Promise<number[]> {
      const built = rows.map((fields, i) => {
        const entries = withNew ? [...oldEntries(fields), [newColumn, mapping.newJson(fields)] as const] : oldEntries(fields);
        return sqlValues(entries, 1 + i * entries.length);
      });
      const columns = built[0]?.columns;
      if (!columns) throw new Error('insertMany: no rows');
      const tuples = built.map(({ params }) => `(${params.join(', ')}, ${now}, ${now})`);
      const reported = await ex.insert(`INSERT INTO ${table} (${columns.join(', ')}, created_at, updated_at) VALUES ${tuples.join(', ')}`, built.flatMap(({ values }) => values));
      const first = db.dialect.name === 'sqlite' ? reported - rows.length + 1 : reported;
      return rows.map((_, i) => first + i);
    },
    /** Rows per insertMany that stay under SQLite's oldest limit of 999 bound parameters. */
    maxRowsPerInsert: (withNew = false) => Math.floor(999 / (oldColumnNames.length + (withNew ? 1 : 0))),

    // ---- both columns: v2 dual-write
    async insertBoth(fields: Fields, profileJson: string): Promise<User> {
      return { id: await insert([...oldEntries(fields), [newColumn, profileJson]]), fields };
    },
    /** One statement sets old and new columns together: no torn row, one round trip. */
    updateBoth: (id: number, fields: Fields, profileJson: string, ex: Executor = db): Promise<boolean> => update(ex, id, [...oldEntries(fields), [newColumn, profileJson]]),
    /**
     * The `sequential` strategy's first statement: the old columns, and the new column marked missing in the same
     * statement, so that the row never holds a new value that differs from its old columns (it is NULL, or,
     * after the second statement, rebuilt from them: repairMissingProfile).
     */
    updateOldClearingNew: (id: number, fields: Fields): Promise<boolean> => update(db, id, oldEntries(fields), { extra: `${newColumn} = NULL` }),
    updateNew: (id: number, profileJson: string, ex: Executor = db): Promise<boolean> => update(ex, id, [[newColumn, profileJson]], { touch: false }),
    /** Old and new columns of one row in one query (dual-read never needs a second round trip). */
    async findWithProfile(id: number, ex: Executor = db): Promise<UserRowWithProfile | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${oldSelect}, ${newColumn} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? { id: Number(row[key]), fields: mapping.fieldsOf(row), profileData: row[newColumn] } : null;
    },
    // ---- new column only: v2 in write mode new-only (never names the old columns, which contract drops)
    insertNewOnly: (profileJson: string): Promise<number> => insert([[newColumn, profileJson]]),
    updateNewOnly: (id: number, profileJson: string): Promise<boolean> => update(db, id, [[newColumn, profileJson]]),
    async findNewOnly(id: number, ex: Executor = db): Promise<{ id: number; profileData: unknown } | null> {
      const [row] = await ex.select<Record<string, unknown>>(`SELECT ${key}, ${newColumn} FROM ${table} WHERE ${key} = $1`, [id]);
      return row ? { id: Number(row[key]), profileData: row[newColumn] } : null;
    },

    /**
     * Fills a missing new column from the row's own current old columns, computed inside the UPDATE: repair on
     * read, and the `sequential` strategy's second statement. It never copies a value the app read earlier (which
     * a concurrent v1 write may already have replaced), and `IS NULL` is the only guard: no `WHERE <old column> = ?`,
     * which a case- or accent-insensitive collation would match against the wrong value.
     */
    async repairMissingProfile(id: number): Promise<boolean> {
      const matched = await db.update(`UPDATE ${table} SET ${newColumn} = ${profileFromOld} WHERE ${key} = $1 AND ${newColumn} IS NULL`, [id]);
      return matched > 0;
    },
  };
}
