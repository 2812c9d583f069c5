// What counts as drift, judged in code on a row read with its columns: the same definition as drift-sql.ts, for
// a mapping without a SQL form (its transform is code only), so that verify counts and the app-side backfill
// repairs exactly what the SQL path would:
// - missing:   the new column is NULL;
// - invalid:   not NULL, but mapping.readNew rejects it;
// - different: valid, but some old column is not byte-equal to its value read back from the new column. A NULL
//              old column (a row written in new-only) differs from any value, as bytesDiffer's null-safe
//              comparison says in SQL. Strings from the driver are compared with ===: code unit for code unit,
//              which for the UTF-8 text a column holds is byte for byte (never a collation).
// test/verify/drift.test.ts checks verify judging in code against the SQL on the same rows.
import type { Fields, SchemaMapping } from './mapping-contract.ts';
import type { DriftReason } from './verify/results.ts';

export interface RowJudgement {
  /** The drift this row has, or null when it is in sync (`different` only when the old columns are compared). */
  reason: DriftReason | null;
  /** The old columns the new column stands for, or null when it is missing or invalid. */
  fromNew: Fields | null;
  /** The old columns, or null when one of them is NULL. */
  old: Fields | null;
  /** Some old column is NULL (written in new-only). */
  oldMissing: boolean;
  /** Valid, and some old column differs from it (NULL included); false when the old columns are not compared. */
  different: boolean;
}

/** One row's drift; `compareOld` false (write mode new-only): the old columns are not compared (they may be gone). */
export function judgeRow(mapping: SchemaMapping, row: Readonly<Record<string, unknown>>, { compareOld = true }: { compareOld?: boolean } = {}): RowJudgement {
  const raw = row[mapping.newColumn];
  const fromNew = raw == null ? null : mapping.readNew(raw);
  const old = compareOld ? mapping.fieldsOf(row) : null;
  const oldMissing = compareOld && old === null;
  const different = compareOld && fromNew !== null && (old === null || mapping.differingFields(fromNew, old).length > 0);
  const reason: DriftReason | null = raw == null ? 'missing' : fromNew === null ? 'invalid' : different ? 'different' : null;
  return { reason, fromNew, old, oldMissing, different };
}
