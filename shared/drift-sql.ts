// What counts as drift, in SQL, derived from the schema mapping: the one definition that verify counts and the
// backfill repairs. It matches the app's own reading of a row (mapping.readNew + differingFields):
// - missing:   the new column IS NULL;
// - invalid:   not NULL, but not a value the mapping's parser accepts (a number, an array, malformed text on
//              SQLite: the app's parser rejects each of them, so must verify);
// - different: valid, but some old column is not byte-equal to its value read back from the new column (the
//              mapping's new -> old SQL). Byte-equal, never collation-equal: under MySQL's default collations
//              'Alice' = 'alice', 'Zoe' = 'Zoë' and 'a' = 'a '.
// test/verify/drift.test.ts and test/template/split-name.test.ts check it against the mapping's own functions.
import type { Dialect } from './db/dialect.ts';
import { requireSql } from './mapping-contract.ts';
import { mapping as activeMapping } from './schema-mapping.ts';
import type { SchemaMapping } from './schema-mapping.ts';

export interface DriftSql {
  missing: string;
  invalid: string;
  /** Valid, but some field differs from its old column (dual mode only: needs the old columns). */
  different: string;
  /** The new column holds a value the mapping's parser accepts. */
  valid: string;
  /** Each old column's value as the new column holds it (NULL unless valid): the mapping's new -> old SQL. */
  fieldOf: Record<string, string>;
}

export function driftSql(dialect: Dialect, mapping: SchemaMapping = activeMapping): DriftSql {
  const sql = requireSql(mapping, 'drift in SQL');
  const fieldOf = sql.oldFromNewSql(dialect);
  const valid = sql.newValidSql(dialect);
  const column = (name: string) => {
    const sql = fieldOf[name];
    if (sql === undefined) throw new Error(`mapping ${mapping.id}: oldFromNewSql gives no expression for ${name}`);
    return sql;
  };
  return {
    missing: `(${mapping.newColumn} IS NULL)`,
    invalid: `(${mapping.newColumn} IS NOT NULL AND NOT ${valid})`,
    different: `(${valid} AND (${mapping.oldColumnNames.map((name) => dialect.bytesDiffer(column(name), name)).join(' OR ')}))`,
    valid,
    fieldOf,
  };
}
