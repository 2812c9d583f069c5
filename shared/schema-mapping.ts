// The migration in one place: the active schema mapping, chosen by MAPPING (default `users`) among those listed in
// examples/index.ts. The apps, the backfill, verify, the drift SQL, the migrations and the load tools all derive
// their table, columns, SQL and comparisons from it, so the values written to the old columns and to the new
// column are identical by construction (the common recipe's "the values must be identical").
// To adapt this template to another table: docs/template.md (one mapping file plus one line in the index).
import { MAPPINGS } from '../examples/index.ts';
import type { Fields, SchemaMapping } from './mapping-contract.ts';

export type { Fields, OldColumn, SchemaMapping } from './mapping-contract.ts';

/** What an entity is through its old columns (one string per old column). */
export type UserFields = Fields;

export const DEFAULT_MAPPING = 'users';

/** The mapping named `name`; throws naming MAPPING and the choices when there is none. */
export function mappingNamed(name: string | undefined): SchemaMapping {
  const id = name === undefined || name === '' ? DEFAULT_MAPPING : name;
  const found = MAPPINGS.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`MAPPING: no mapping named ${JSON.stringify(id)}; choose one of ${MAPPINGS.map((m) => m.id).join(', ')} (examples/index.ts)`);
  return found;
}

/**
 * The active mapping, read once when the process starts. A MAPPING that names none is a typo, not a crash: one line
 * naming MAPPING and the choices, exit 2 (as a bad command-line flag), before any entry point has touched anything.
 */
export const mapping: SchemaMapping = activeMapping();

function activeMapping(): SchemaMapping {
  try {
    return mappingNamed(process.env.MAPPING);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** The mapping's columns as messages, help texts and metric descriptions name them (`profile_data`, `name/email`). */
export const columns = {
  new: mapping.newColumn,
  old: mapping.oldColumnNames.join('/'),
  oldAnd: mapping.oldColumnNames.length <= 1 ? mapping.oldColumnNames.join('') : `${mapping.oldColumnNames.slice(0, -1).join(', ')} and ${mapping.oldColumnNames.at(-1)}`,
};
