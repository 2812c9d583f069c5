// Flag values in the database: read as one consistent set with its version, written in one transaction that
// bumps the version. Readers take the set and its version in ONE statement, so an instance never reports a
// version whose values it has not loaded.
import type { Database } from '../db/connection.ts';
import { isMissingTable } from '../db/errors.ts';
import { defaultFlagValues, flagNameOf, parseFlagValue } from './registry.ts';
import type { FlagName, FlagValues } from './registry.ts';

export interface FlagSet {
  version: number;
  values: FlagValues;
  /** Stored values that no longer pass the registry (kept at the default, reported). */
  invalid: string[];
}

/** The current flag set, or null before 002-expand created the flag tables (v1 on the base schema). */
export async function readFlagSet(db: Database): Promise<FlagSet | null> {
  let rows;
  try {
    rows = await db.select<{ set_version: number | string; name: string | null; value: string | null; version: number | string | null }>(
      'SELECT s.version AS set_version, f.name, f.value, f.version FROM flag_set s LEFT JOIN flags f ON 1 = 1 WHERE s.id = 1',
    );
  } catch (err) {
    if (isMissingTable(err)) return null;
    throw err;
  }
  if (rows.length === 0) throw new Error('flag_set has no row: run npm run db:migrate');
  const values = defaultFlagValues() as Record<FlagName, unknown>;
  const invalid: string[] = [];
  // A row under a former name (shadow-compare, written by older tooling) counts for the flag it now names; of a
  // flag's rows, the last written (highest version) wins.
  const byFlag = new Map<FlagName, (typeof rows)[number]>();
  for (const row of rows) {
    const name = row.name === null ? null : flagNameOf(row.name);
    if (name === null || row.value === null) continue;
    const seen = byFlag.get(name);
    if (!seen || Number(row.version) > Number(seen.version)) byFlag.set(name, row);
  }
  for (const [name, row] of byFlag) {
    let parsed;
    try {
      parsed = parseFlagValue(name, JSON.parse(row.value!));
    } catch {
      parsed = { ok: false as const, error: 'not JSON' };
    }
    if (parsed.ok) values[name] = parsed.value;
    else invalid.push(row.name!);
  }
  return { version: Number(rows[0]!.set_version), values: values as FlagValues, invalid };
}

/** A compare-and-set write found the flag set at another version than the one its decision was based on. */
export class FlagSetMoved extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number | null,
  ) {
    super(`the flag set moved from version ${expected} to ${actual ?? 'unknown'} while this change was being decided`);
  }
}

/**
 * Sets flags atomically; returns the new flag-set version. Values must already be checked by the registry.
 * With `expectVersion` it is a compare-and-set: it writes only if the set is still at that version (the one a
 * gate judged), and throws FlagSetMoved otherwise, so two operators advancing at once cannot both land.
 */
export async function writeFlags(db: Database, changes: Partial<FlagValues>, changedBy: string, { expectVersion }: { expectVersion?: number } = {}): Promise<number> {
  const now = db.dialect.now;
  return db.transaction(async (tx) => {
    // The row lock on flag_set serializes concurrent writers, so versions are never reused or reordered.
    const guard = expectVersion === undefined ? '' : ' AND version = $1';
    const bumped = await tx.update(`UPDATE flag_set SET version = version + 1, updated_at = ${now} WHERE id = 1${guard}`, expectVersion === undefined ? [] : [expectVersion]);
    if (bumped === 0 && expectVersion !== undefined) {
      const [current] = await tx.select<{ version: number | string }>('SELECT version FROM flag_set WHERE id = 1');
      throw new FlagSetMoved(expectVersion, current ? Number(current.version) : null);
    }
    const [row] = await tx.select<{ version: number | string }>('SELECT version FROM flag_set WHERE id = 1');
    const version = Number(row!.version);
    for (const [name, value] of Object.entries(changes)) {
      const params = [JSON.stringify(value), version, changedBy, name];
      const matched = await tx.update(`UPDATE flags SET value = $1, version = $2, updated_at = ${now}, updated_by = $3 WHERE name = $4`, params);
      if (matched === 0) {
        await tx.run(`INSERT INTO flags (value, version, updated_at, updated_by, name) VALUES ($1, $2, ${now}, $3, $4)`, params);
      }
    }
    return version;
  });
}
