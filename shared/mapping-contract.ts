// What a schema mapping is: the one typed description of a migration that every part of the rollout derives from
// (the entity's table, route and key; the old columns with their types and validation; the new column; the
// transform both ways, in code and as SQL per dialect). A mapping is written once, in examples/ (one file each,
// listed in examples/index.ts), with defineMapping, which checks it against this contract at compile time.
// shared/schema-mapping.ts picks the active one (MAPPING, default `users`). docs/template.md lists what a mapping
// must guarantee.
import { randomUUID } from 'node:crypto';
import type { Dialect } from './db/dialect.ts';

/** What an entity is through its old columns: one string per old column, keyed by column name. */
export type Fields = Readonly<Record<string, string>>;

/**
 * How rows are keyed. integer: the database assigns 1, 2, 3... (AUTO_INCREMENT); the key is a JS number and the
 * JSON body's `id` a number. uuid: the app assigns a random UUID (v4, lower case) on create; the key is a string.
 * Either way the rest of the rollout treats a key as opaque and orders it as the database orders the column.
 */
export const KEY_TYPES = ['integer', 'uuid'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** A row's key as the database gives it: a number for integer keys, a string for uuid keys. */
export type Key = number | string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_INTEGER_KEY = Number.MAX_SAFE_INTEGER;

/** The SQL form of a mapping's transform, per dialect: what lets the database itself backfill, verify and sync. */
export interface MappingSqlSpec<Column extends string> {
  /** Old -> new in SQL, from the row's own old columns (`old(column)` gives each one's expression). */
  newFromOldSql(dialect: Dialect, old: (column: Column) => string): string;
  /** The SQL condition "the new column holds a value parseNew accepts". */
  newValidSql(dialect: Dialect, newColumn: string): string;
  /** New -> old in SQL: each old column's value from the new column (NULL when not valid). */
  oldFromNewSql(dialect: Dialect, newColumn: string): Record<Column, string>;
}

/** The SQL form as the rollout uses it (author's types erased, default column references filled in). */
export interface MappingSql {
  /** Old -> new in SQL; `old` names each old column's expression (default: the column itself; a trigger passes `NEW.<column>`). */
  newFromOldSql(dialect: Dialect, old?: (column: string) => string): string;
  /** "The new column is valid" in SQL; `newColumnRef` is how the statement names the new column (default: the column). */
  newValidSql(dialect: Dialect, newColumnRef?: string): string;
  /** New -> old in SQL, one expression per old column (NULL unless valid); `newColumnRef` as above (e.g. `NEW.profile_data`). */
  oldFromNewSql(dialect: Dialect, newColumnRef?: string): Record<string, string>;
}

/** An old column: its SQL types (without NULL-ability: the migrations add it) and the validation both versions share. */
export interface OldColumn<Column extends string = string> {
  name: Column;
  /** MySQL/MariaDB type, e.g. `VARCHAR(100)`; the collation is taken from the table (the migrations read it). */
  mysqlType: string;
  /** SQLite type, e.g. `TEXT`. */
  sqliteType: string;
  /** Most Unicode code points a value may have (what VARCHAR(n) in utf8mb4 counts). */
  maxChars: number;
  /** Extra format check on top of the shared text rules. */
  format?: 'email-address';
}

/**
 * A lookup by one field that moves into the new column: `GET <route>?<param>=<value>` answers the rows whose value
 * is exactly `value` (byte for byte). Before stage live it is answered from the old columns, in code (fromFields);
 * from live on through an index over the new column (006-lookup-index: a generated column on MySQL/MariaDB, an
 * expression index on SQLite). fromFields(toOld(toNew(x))) must equal the value at jsonPath in toNew(x): the two
 * paths must find the same rows (test/template/lookups.test.ts checks it for each example).
 */
export interface LookupSpec<Column extends string> {
  /** The query parameter (`email`, `postcode`); also names the generated column, `<newColumn>_<param>`. */
  param: string;
  /** The longest value accepted (Unicode code points); the generated column is VARCHAR(maxChars). */
  maxChars: number;
  /** What a value must look like on top of the shared text rules (a postcode's shape); a value that cannot match no row. */
  pattern?: RegExp;
  /** The value a row is found by, computed in code from its old columns; null: the row has none and is never found. */
  fromFields(fields: Readonly<Record<Column, string>>): string | null;
  /** Where the value lives in the new column, `$.<key>`: a JSON string there, or the row has none. */
  jsonPath: string;
  /**
   * A condition on the old columns that holds for EVERY row whose fromFields is `value` (it may hold for more: the
   * app keeps only exact matches), with its bind values for $1, $2...: an indexed prefilter (`email = $1`; a
   * LIKE on the address). Leave it out and the old-column lookup scans the table in key order, in batches.
   */
  oldSql?(dialect: Dialect, value: string): { where: string; params: string[] };
}

/** A lookup as the rollout uses it (author's types erased, names derived). */
export interface MappingLookup {
  readonly param: string;
  readonly maxChars: number;
  readonly pattern: RegExp | null;
  fromFields(fields: Fields): string | null;
  readonly jsonPath: string;
  /** The JSON key jsonPath names (for the dialect's jsonStringField). */
  readonly jsonKey: string;
  /** The generated column 006-lookup-index adds on MySQL/MariaDB: `<newColumn>_<param>`. */
  readonly generatedColumn: string;
  /** The index 006-lookup-index adds: `<table>_by_<param>`. */
  readonly indexName: string;
  oldSql: ((dialect: Dialect, value: string) => { where: string; params: string[] }) | null;
}

/** A mapping as its author writes it, typed on its own column names and its own shape of the new column. */
export interface MappingSpec<Column extends string, Profile> {
  /** The name MAPPING selects, e.g. `users`. */
  id: string;
  /** One entity, in messages: `user`. */
  entity: string;
  table: string;
  /** The HTTP collection path: `/users` (POST creates, GET/PUT `/users/:key`). */
  route: string;
  /** The primary key (backfill and verify walk ranges of it in the database's order). */
  keyColumn: string;
  /** integer (the default): assigned by the database; uuid: assigned by the app on create. */
  keyType?: KeyType;
  oldColumns: readonly OldColumn<Column>[];
  /** JSON on MySQL/MariaDB, TEXT on SQLite. */
  newColumn: string;
  /**
   * A valid, distinct value for seeds and load (unique per tag, and so is its lookup value, if any: the load looks
   * rows up by it); by default the tag, or tag@domain for an email column.
   */
  sample?(tag: string, domain: string): Record<Column, string>;
  /** Old -> new in code: what dual-write stores. */
  toNew(fields: Readonly<Record<Column, string>>): Profile;
  /** New -> old in code: dual-read, new-only reads, the way back. toOld(toNew(x)) must equal x byte for byte. */
  toOld(profile: Profile): Record<Column, string>;
  /** Accepts a parsed JSON value as the new column's shape, or null (missing key, wrong type...). */
  parseNew(value: unknown): Profile | null;
  /**
   * The transform in SQL, when SQL can express it (then the backfill, verify and the sync triggers run inside
   * the database). Leave it out when only code can (a parser, a lookup): the backfill and verify then read rows,
   * transform in code and write with a compare-and-set (shared/backfill/app-side.ts), and SYNC=trigger is refused.
   */
  sql?: MappingSqlSpec<Column>;
  /** A lookup by a field that moves into the new column (GET <route>?<param>=...), when the entity has one. */
  lookup?: LookupSpec<Column>;
}

/** A mapping as the rollout uses it: the same facts with the author's types erased, plus what is derived from them. */
export interface SchemaMapping {
  readonly id: string;
  readonly entity: string;
  readonly table: string;
  readonly route: string;
  readonly keyColumn: string;
  readonly keyType: KeyType;
  /** A key from a URL path segment, or null when it is not one this mapping's keys can be (never a database round trip). */
  parseKey(raw: string): Key | null;
  /** The key a create assigns in the app (uuid), or null when the database assigns it (integer). */
  newKey(): Key | null;
  readonly oldColumns: readonly OldColumn[];
  /** The old columns' names, in order. */
  readonly oldColumnNames: readonly string[];
  readonly newColumn: string;
  /** A valid value for seeds and generated load, distinct for each tag (tag: letters, digits, '-'). */
  sampleFields(tag: string, domain: string): Fields;
  /** Old -> new: the value stored in the new column, as JSON text. */
  newJson(fields: Fields): string;
  /** Old -> new: the value itself (for reports and tests). */
  toNew(fields: Fields): unknown;
  /**
   * New -> old from what the driver returns (a string on MariaDB and SQLite, an object on MySQL 8): the old
   * columns' values the new column stands for, or null when it is NULL, malformed or of the wrong shape.
   */
  readNew(raw: unknown): Fields | null;
  /** The old columns of a row read with them (every value a string), or null when a column is missing. */
  fieldsOf(row: Readonly<Record<string, unknown>>): Fields | null;
  /** The old columns whose values differ, compared in code byte for byte (never through a collation). */
  differingFields(a: Fields, b: Fields): string[];
  /** The transform in SQL, or null when only code can compute it (see MappingSpec.sql). */
  readonly sql: MappingSql | null;
  /** The lookup by a moved field, or null when the mapping declares none (then GET <route> has no route). */
  readonly lookup: MappingLookup | null;
}

/** Checks a mapping against the contract (types and the names SQL will use) and erases its own types. */
export function defineMapping<Column extends string, Profile>(spec: MappingSpec<Column, Profile>): SchemaMapping {
  const names = spec.oldColumns.map((column) => column.name);
  for (const identifier of [spec.table, spec.keyColumn, spec.newColumn, ...names]) {
    // Every name is spliced into SQL: only plain identifiers, never anything to quote.
    if (!/^[a-z_][a-z0-9_]*$/.test(identifier)) throw new Error(`mapping ${spec.id}: ${JSON.stringify(identifier)} is not a plain lower-case SQL identifier`);
  }
  const keyType = spec.keyType ?? 'integer';
  if (!KEY_TYPES.includes(keyType)) throw new Error(`mapping ${spec.id}: keyType ${JSON.stringify(keyType)} is not one of ${KEY_TYPES.join(', ')}`);
  if (!/^\/[a-z0-9_-]+$/.test(spec.route)) throw new Error(`mapping ${spec.id}: route ${JSON.stringify(spec.route)} must look like /things`);
  const pick = (source: Readonly<Record<string, unknown>>): Record<Column, string> | null => {
    const out = {} as Record<Column, string>;
    for (const name of names) {
      const value = source[name];
      if (typeof value !== 'string') return null;
      out[name] = value;
    }
    return out;
  };
  const toNew = (fields: Fields) => {
    const picked = pick(fields);
    if (!picked) throw new Error(`mapping ${spec.id}: fields must hold ${names.join(', ')} as strings`);
    return spec.toNew(picked);
  };
  return {
    id: spec.id,
    entity: spec.entity,
    table: spec.table,
    route: spec.route,
    keyColumn: spec.keyColumn,
    keyType,
    parseKey: keyType === 'uuid' ? (raw) => (UUID.test(raw) ? raw : null) : (raw) => (/^[1-9]\d{0,15}$/.test(raw) && Number(raw) <= MAX_INTEGER_KEY ? Number(raw) : null),
    newKey: keyType === 'uuid' ? () => randomUUID() : () => null,
    oldColumns: spec.oldColumns,
    oldColumnNames: names,
    newColumn: spec.newColumn,
    sampleFields: (tag, domain) =>
      spec.sample?.(tag, domain) ?? Object.fromEntries(spec.oldColumns.map((column) => [column.name, column.format === 'email-address' ? `${tag}@${domain}` : tag])),
    toNew,
    newJson: (fields) => JSON.stringify(toNew(fields)),
    readNew(raw) {
      let value: unknown = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return null;
        }
      }
      const profile = spec.parseNew(value);
      return profile === null ? null : spec.toOld(profile);
    },
    fieldsOf: (row) => pick(row),
    differingFields: (a, b) => names.filter((name) => a[name] !== b[name]),
    sql: spec.sql ? sqlForm(spec.sql, spec.newColumn) : null,
    lookup: spec.lookup ? lookupForm(spec, spec.lookup, pick) : null,
  };
}

function lookupForm<Column extends string>(
  spec: { id: string; table: string; newColumn: string; oldColumns: readonly OldColumn<Column>[] },
  lookup: LookupSpec<Column>,
  pick: (source: Readonly<Record<string, unknown>>) => Record<Column, string> | null,
): MappingLookup {
  const jsonKey = /^\$\.([a-z_][a-z0-9_]*)$/.exec(lookup.jsonPath)?.[1];
  // The key, the param and the names built from them are spliced into SQL and index names.
  if (!jsonKey) throw new Error(`mapping ${spec.id}: lookup jsonPath ${JSON.stringify(lookup.jsonPath)} must look like $.key (one plain lower-case key)`);
  if (!/^[a-z_][a-z0-9_]*$/.test(lookup.param)) throw new Error(`mapping ${spec.id}: lookup param ${JSON.stringify(lookup.param)} is not a plain lower-case identifier`);
  if (!Number.isInteger(lookup.maxChars) || lookup.maxChars < 1 || lookup.maxChars > 768) {
    throw new Error(`mapping ${spec.id}: lookup maxChars must be an integer from 1 to 768 (an index key of utf8mb4 VARCHAR fits 3072 bytes)`);
  }
  return {
    param: lookup.param,
    maxChars: lookup.maxChars,
    pattern: lookup.pattern ?? null,
    fromFields(fields) {
      const picked = pick(fields);
      if (!picked) throw new Error(`mapping ${spec.id}: fields must hold ${spec.oldColumns.map((column) => column.name).join(', ')} as strings`);
      return lookup.fromFields(picked);
    },
    jsonPath: lookup.jsonPath,
    jsonKey,
    generatedColumn: `${spec.newColumn}_${lookup.param}`,
    indexName: `${spec.table}_by_${lookup.param}`,
    oldSql: lookup.oldSql ?? null,
  };
}

/**
 * The mapping's SQL form, for a step that can only run inside the database (a trigger, a one-statement backfill);
 * throws naming the mapping and the step when it has none.
 */
export function requireSql(mapping: SchemaMapping, step: string): MappingSql {
  if (mapping.sql) return mapping.sql;
  throw new Error(`mapping ${mapping.id} has no SQL form (its transform is code only), so ${step} cannot run inside the database`);
}

function sqlForm<Column extends string>(sql: MappingSqlSpec<Column>, newColumn: string): MappingSql {
  return {
    // The author's `old` is typed on their own columns; the rollout passes any column name it got from them.
    newFromOldSql: (dialect, old = (column) => column) => sql.newFromOldSql(dialect, old as (column: Column) => string),
    newValidSql: (dialect, newColumnRef = newColumn) => sql.newValidSql(dialect, newColumnRef),
    oldFromNewSql: (dialect, newColumnRef = newColumn) => sql.oldFromNewSql(dialect, newColumnRef),
  };
}

/** A JSON object with exactly the given keys, each a string: the shape most mappings' parseNew accepts. */
export function stringFields<Key extends string>(value: unknown, keys: readonly Key[]): Record<Key, string> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const out = {} as Record<Key, string>;
  for (const key of keys) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field !== 'string') return null;
    out[key] = field;
  }
  return out;
}
