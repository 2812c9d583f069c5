// The index a lookup by a moved field uses from stage live on (GET <route>?<param>=...): one description of it,
// shared by the migration that builds it (006-lookup-index) and the repository's query, so that the query names
// exactly what was indexed (SQLite only uses an expression index for the very same expression).
//   MySQL/MariaDB: a VIRTUAL generated column over the JSON (computed on read, stored only in its index) and an
//                  index on it. It holds the field only when it is a JSON string of at most maxChars characters,
//                  else NULL: a longer one would make every write of such a row fail ("Data too long" under
//                  strict mode), and no lookup value is longer. utf8mb4_bin, so that the index never folds case.
//   SQLite:        an expression index on the same field (NULL unless valid JSON holding a string there: an
//                  index expression that raised an error on malformed JSON would make the write fail), then the key.
import type { MappingLookup, SchemaMapping } from '../mapping-contract.ts';
import type { Dialect } from './dialect.ts';

export interface LookupIndex {
  lookup: MappingLookup;
  /** What a lookup's WHERE compares with the value: the generated column, or SQLite's indexed expression. */
  indexedValue: string;
  /** The statements that add the column and the index, in order (each one a separate online step on MySQL/MariaDB). */
  add: string[];
  /** The statements that drop them, in order. */
  drop: string[];
}

/** The mapping's lookup index in this dialect, or null when the mapping declares no lookup. */
export function lookupIndex(mapping: SchemaMapping, dialect: Dialect): LookupIndex | null {
  const { lookup, table, newColumn, keyColumn } = mapping;
  if (!lookup) return null;
  const field = dialect.jsonStringField(newColumn, lookup.jsonKey);
  if (dialect.name === 'sqlite') {
    return {
      lookup,
      indexedValue: field,
      // The key after the value: the rows of one value come out in key order, with no sort (a UUID key is not the rowid).
      add: [`CREATE INDEX ${lookup.indexName} ON ${table} (${field}, ${keyColumn})`],
      drop: [`DROP INDEX ${lookup.indexName}`],
    };
  }
  const width = lookup.maxChars;
  // Two statements: MariaDB refuses to add a virtual column and an index on it in one online ALTER ("INPLACE ADD
  // or DROP of virtual columns cannot be combined with other ALTER TABLE actions"). The column is instant
  // (metadata only: a virtual column stores nothing); the index is built in place while reads and writes go on
  // (LOCK=NONE: concurrent changes are logged and applied at the end), in time proportional to the table.
  return {
    lookup,
    indexedValue: lookup.generatedColumn,
    add: [
      `ALTER TABLE ${table} ADD COLUMN ${lookup.generatedColumn} VARCHAR(${width}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin ` +
        `AS (CASE WHEN CHAR_LENGTH(${field}) <= ${width} THEN ${field} END) VIRTUAL, ${dialect.instantAddColumn}`,
      `ALTER TABLE ${table} ADD INDEX ${lookup.indexName} (${lookup.generatedColumn}), ALGORITHM=INPLACE, LOCK=NONE`,
    ],
    drop: [
      `ALTER TABLE ${table} DROP INDEX ${lookup.indexName}, ALGORITHM=INPLACE, LOCK=NONE`,
      `ALTER TABLE ${table} DROP COLUMN ${lookup.generatedColumn}, ${dialect.instantAddColumn}`,
    ],
  };
}
