// What counts as drift, in SQL, derived from the schema mapping: the one definition that verify counts and the
// backfill repairs. It matches the app's own reading of a row (parseProfileData + differingFields):
// - missing:   profile_data IS NULL;
// - invalid:   not NULL, but not a JSON object whose mapped fields are all JSON strings (a number, an array,
//              malformed text on SQLite: the app's parser rejects each of them, so must verify);
// - different: valid, but some field is not byte-equal to its old column. Byte-equal, never collation-equal:
//              under MySQL's default collations 'Alice' = 'alice', 'Zoe' = 'Zoë' and 'a' = 'a '.
// The mapping stores each old column under a JSON field of the same name (toProfileData); the SQL here relies
// on that, and test/verify/drift-sql.test.ts checks it against the mapping's own functions.
import type { Dialect } from '../db/dialect.ts';
import { NEW_COLUMN, OLD_COLUMNS } from '../schema-mapping.ts';

export type OldColumn = (typeof OLD_COLUMNS)[number];

export interface DriftSql {
  missing: string;
  invalid: string;
  /** Valid, but some field differs from its old column (dual mode only: needs the old columns). */
  different: string;
  /** profile_data is a JSON object with every mapped field a string. */
  valid: string;
  /** Each old column's value as profile_data holds it (NULL unless valid). */
  fieldOf: Record<OldColumn, string>;
}

export function driftSql(dialect: Dialect): DriftSql {
  const fieldOf = Object.fromEntries(OLD_COLUMNS.map((column) => [column, dialect.jsonStringField(NEW_COLUMN, column)])) as Record<OldColumn, string>;
  const valid = `(${OLD_COLUMNS.map((column) => `${fieldOf[column]} IS NOT NULL`).join(' AND ')})`;
  return {
    missing: `(${NEW_COLUMN} IS NULL)`,
    invalid: `(${NEW_COLUMN} IS NOT NULL AND NOT ${valid})`,
    different: `(${valid} AND (${OLD_COLUMNS.map((column) => dialect.bytesDiffer(fieldOf[column], column)).join(' OR ')}))`,
    valid,
    fieldOf,
  };
}
