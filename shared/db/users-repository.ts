// The migrated table: every statement any version runs against it, named after what it touches, built from the
// schema mapping (table, key, old columns, new column). v1 calls only the *Old* functions (it knows nothing of
// the new column); v2's dual-write strategies and dual-read policy call the *Both*/*WithProfile* ones, and in
// write mode new-only only the *NewOnly* ones.
// All statements are parameterized; none is built from input. Placeholders are numbered from the very lists the
// column names come from (sqlValues), so a mapping with more or fewer old columns still lines them up.
import type { Key, MappingLookup } from '../mapping-contract.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { Fields, SchemaMapping } from '../schema-mapping.ts';
import type { Database, Executor, Param } from './connection.ts';
import { lookupIndex } from './lookup-index.ts';

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
/** How often a PATCH re-reads a row changed under it before it answers 500 (a hot key under a storm of writes). */
const PATCH_ATTEMPTS = 20;

/** Rows a lookup reads per statement while it walks the candidates in key order. */
const LOOKUP_BATCH = 500;

/** A lookup's candidate through the index: the key, the new column as read, and the old columns' view of it (null: unreadable). */
export interface LookupCandidate {
  id: Key;
  fields: Fields | null;
  profileData: unknown;
}

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
  /**
   * The new column as its text, for a compare-and-set on it: mysql2 parses a JSON column into an object (MariaDB
   * announces the JSON format), and an object has no bytes; JSON.stringify of it is not what the row holds when the
   * database wrote it (JSON_OBJECT's `{"a": 1}` has spaces). CAST AS CHAR gives the text as stored (MySQL 8: its
   * one normalized form, the same bytes CAST AS BINARY compares). shared/backfill/app-side.ts reads it the same way.
   */
  const newAsText = db.dialect.name === 'sqlite' ? newColumn : `CAST(${newColumn} AS CHAR) AS ${newColumn}`;
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

  /**
   * A partial update as a compare-and-set: read the row, merge the patch into it in code, and write in ONE
   * statement only if the columns it merged from still hold the bytes read; otherwise read again. `read` gives the
   * row's current whole value and the guard on it (null: no such row); `write` is the UPDATE's assignments.
   * Optimistic rather than SELECT ... FOR UPDATE: no lock is held across a round trip to the app.
   */
  const patchCas = async (
    id: Key,
    patch: Partial<Fields>,
    read: (row: Record<string, unknown>) => { current: Fields; guard: readonly (readonly [string, Param])[] } | null,
    selectColumns: string,
    write: (merged: Fields) => readonly (readonly [string, Param | undefined])[],
  ): Promise<Fields | null> => {
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      const [row] = await db.select<Record<string, unknown>>(`SELECT ${selectColumns} FROM ${table} WHERE ${key} = $1`, [id]);
      if (!row) return null;
      const seen = read(row);
      if (!seen) throw new Error(`${mapping.entity} ${String(id)}: neither the old columns nor ${newColumn} hold a whole value to patch`);
      const merged: Fields = { ...seen.current, ...(patch as Fields) };
      const { columns, params, values } = sqlValues(write(merged));
      const guardFrom = values.length + 2;
      const matched = await db.update(
        `UPDATE ${table} SET ${[...columns.map((column, i) => `${column} = ${params[i]}`), `updated_at = ${now}`].join(', ')}
          WHERE ${key} = $${values.length + 1} AND ${sameBytes(seen.guard.map(([column]) => column), guardFrom)}`,
        [...values, id, ...seen.guard.map(([, value]) => value)],
      );
      if (matched > 0) return merged;
    }
    throw new Error(`${mapping.entity} ${String(id)}: the row changed under ${PATCH_ATTEMPTS} patches in a row; try again`);
  };

  const requireLookup = (): MappingLookup => {
    if (!mapping.lookup) throw new Error(`mapping ${mapping.id} declares no lookup`);
    return mapping.lookup;
  };
  /**
   * Walks `where` (bind values $1...) in key order, LOOKUP_BATCH rows per statement, keeping what `keep` returns,
   * until more than `limit` are kept (the answer says "truncated") or the rows run out. Batches, not one statement
   * with a LIMIT: the condition is a superset (a prefilter, a collation), and the exact test runs in code.
   */
  const walkKeys = async <T>(ex: Executor, select: string, where: string, params: Param[], limit: number, keep: (row: Record<string, unknown>) => T | null): Promise<T[]> => {
    const kept: T[] = [];
    let after: Param | undefined;
    for (;;) {
      const conditions = [where, ...(after === undefined ? [] : [`${key} > $${params.length + 1}`])].filter(Boolean);
      const rows = await ex.select<Record<string, unknown>>(
        `SELECT ${select} FROM ${table}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${key} LIMIT ${LOOKUP_BATCH}`,
        after === undefined ? params : [...params, after],
      );
      for (const row of rows) {
        const found = keep(row);
        if (found !== null) kept.push(found);
        if (kept.length > limit) return kept;
      }
      if (rows.length < LOOKUP_BATCH) return kept;
      after = rows.at(-1)![key] as Param;
    }
  };

  return {
    /**
     * The rows whose lookup value, computed in code from their OLD columns, is exactly `value` (up to limit + 1, in
     * key order): v1, and v2 while the old columns are the truth. Through the mapping's prefilter on the old
     * columns when it has one, else a scan. A row whose old columns are NULL (written in new-only) has no old value
     * to be found by.
     */
    async findByLookupOld(value: string, limit: number, ex: Executor = db): Promise<User[]> {
      const lookup = requireLookup();
      const prefilter = lookup.oldSql?.(db.dialect, value) ?? { where: '', params: [] };
      return walkKeys(ex, `${key}, ${oldSelect}`, prefilter.where && `(${prefilter.where})`, prefilter.params, limit, (row) => {
        const fields = mapping.fieldsOf(row);
        return fields && lookup.fromFields(fields) === value ? { id: keyOf(row[key]), fields } : null;
      });
    },
    /**
     * The rows the lookup index finds for `value` (up to limit + 1, in key order), each with the new column read
     * back through the mapping: v2 from stage live on. Never names the old columns. A row whose new column cannot
     * be read back is returned with fields null (the caller answers 500); a readable one that is not exactly
     * `value` (the index compares through a collation) is left out.
     */
    async findByLookupNew(value: string, limit: number, ex: Executor = db): Promise<LookupCandidate[]> {
      const lookup = requireLookup();
      const index = lookupIndex(mapping, db.dialect)!;
      return walkKeys(ex, `${key}, ${newColumn}`, `${index.indexedValue} = $1`, [value], limit, (row) => {
        const fields = mapping.readNew(row[newColumn]);
        if (fields !== null && lookup.fromFields(fields) !== value) return null;
        return { id: keyOf(row[key]), fields, profileData: row[newColumn] };
      });
    },

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

    /**
     * v1's PATCH: the named old columns alone, in one statement, under a compare-and-set on the old columns as read,
     * so the merged value is exactly what the row held once it landed, and the answer. Not a read after the write:
     * a DELETE landing between the two made a PATCH that had taken effect answer 404 (the checker: "value of a
     * failed write"). Not one transaction either: on SQLite each one takes a connection of its own and waits for the
     * write lock on the driver's small thread pool, where a burst of them starves the statement that would release
     * it (measured: heartbeats stalled past the lease).
     */
    async patchOld(id: Key, patch: Partial<Fields>): Promise<User | null> {
      const merged = await patchCas(
        id,
        patch,
        (row) => {
          const current = mapping.fieldsOf(row);
          return current && { current, guard: oldColumnNames.map((column) => [column, (row[column] ?? null) as Param] as const) };
        },
        oldSelect,
        (value) => oldColumnNames.filter((column) => patch[column] !== undefined).map((column) => [column, value[column]] as const),
      );
      return merged && { id, fields: merged };
    },
    /** DELETE by key, any version, any write mode; true when a row was there. */
    deleteRow: async (id: Key, ex: Executor = db): Promise<boolean> => (await ex.update(`DELETE FROM ${table} WHERE ${key} = $1`, [id])) > 0,

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
    /**
     * v2's PATCH in dual-write: the named old columns AND the whole new column in one statement, merged under a
     * compare-and-set from the row's current value in `from`: the old columns while they are the truth (v1 may
     * write them alone), the new column once reads trust it (live: after new-only and a rollback to live, the old
     * columns of rows written in new-only are stale, and merging from them would undo those writes).
     */
    patchBoth: (id: Key, patch: Partial<Fields>, { from = 'old' }: { from?: 'old' | 'new' } = {}): Promise<Fields | null> =>
      patchCas(
        id,
        patch,
        (row) => {
          const fromNew = mapping.readNew(row[newColumn]);
          // A row written in new-only (old columns NULL) is whole in the new column only; a row whose new column
          // is missing (not backfilled yet) in the old columns only.
          const useNew = fromNew !== null && (from === 'new' || mapping.fieldsOf(row) === null);
          const current = useNew ? fromNew : mapping.fieldsOf(row);
          const guard = useNew ? [[newColumn, row[newColumn] as Param] as const] : oldColumnNames.map((column) => [column, (row[column] ?? null) as Param] as const);
          return current && { current, guard };
        },
        `${oldSelect}, ${newAsText}`,
        // Every old column (those not patched are guarded equal, so rewriting them changes nothing but fills a
        // row's NULLs) and the new column whole: what a PUT of the merged value writes.
        (merged) => [...oldEntries(merged), [newColumn, mapping.newJson(merged)]],
      ),

    // ---- new column only: v2 in write mode new-only (never names the old columns, which contract drops)
    insertNewOnly: (profileJson: string): Promise<Key> => insert([[newColumn, profileJson]]),
    updateNewOnly: (id: Key, profileJson: string): Promise<boolean> => update(db, id, [[newColumn, profileJson]]),
    /** v2's PATCH in new-only: the new column merged in code, under a compare-and-set on its bytes as read. */
    patchNewOnly: (id: Key, patch: Partial<Fields>): Promise<Fields | null> =>
      patchCas(
        id,
        patch,
        (row) => {
          const current = mapping.readNew(row[newColumn]);
          return current && { current, guard: [[newColumn, row[newColumn] as Param]] };
        },
        newAsText,
        (merged) => [[newColumn, mapping.newJson(merged)]],
      ),
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
