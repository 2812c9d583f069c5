// Walking a table's key in the database's order, in batches, for any key type (backfill and verify share it).
// Integer keys are walked as numeric ranges lo..lo+n-1 (no lookup: the range is the batch, the statements are
// the ones the backfill always ran). String keys (uuid) have no arithmetic: each batch's upper bound is read from
// the primary-key index (keyset pagination, the n-th key after the last one done), and the batch then works on
// `key > after AND key <= upper`. Either way the run's range is fixed at its start (MIN/MAX), so it ends.
// Keys are never compared in JS: the database orders them (bytes, for the uuid column's ascii_bin / SQLite's
// BINARY collation), and every bound is a key it gave.
import type { Executor } from '../db/connection.ts';
import type { Key, SchemaMapping } from '../mapping-contract.ts';

/** The keys one batch covers: lower (inclusive, or exclusive after a previous batch) up to upper (inclusive). */
export interface BatchRange {
  lower: Key;
  lowerExclusive: boolean;
  upper: Key;
}

/** The batch's WHERE condition on the key, with its two bound values as $first and $first+1. */
export function rangeSql(keyColumn: string, range: Pick<BatchRange, 'lowerExclusive'>, first = 1): string {
  return `${keyColumn} ${range.lowerExclusive ? '>' : '>='} $${first} AND ${keyColumn} <= $${first + 1}`;
}

export const rangeParams = (range: BatchRange): Key[] => [range.lower, range.upper];

/** The key as the mapping types it: drivers give BIGINT as a number or a string, a UUID column as a string. */
export function keyOf(mapping: SchemaMapping, value: unknown): Key {
  return mapping.keyType === 'integer' ? Number(value) : String(value);
}

/** True when keys are walked by keyset pagination (no arithmetic on them). */
export const stringKeyed = (mapping: SchemaMapping): boolean => mapping.keyType !== 'integer';

/** The table's key range now (MIN/MAX), with its row count when `count`; null for an empty table. */
export async function keyBounds(ex: Executor, mapping: SchemaMapping, { count = false } = {}): Promise<{ start: Key; end: Key; rows: number | null } | null> {
  const { table, keyColumn: key } = mapping;
  const [bounds] = await ex.select<{ lo: unknown; hi: unknown; n?: number | string }>(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi${count ? ', COUNT(*) AS n' : ''} FROM ${table}`);
  if (bounds?.lo == null || bounds.hi == null) return null;
  return { start: keyOf(mapping, bounds.lo), end: keyOf(mapping, bounds.hi), rows: count ? Number(bounds.n ?? 0) : null };
}

/**
 * The next batch of string keys after `after` (null: from `start`, inclusive) up to `end`: at most `size` keys,
 * read from the index in order. Its upper bound is the last key read, or `end` when fewer than `size` were left;
 * null when no key is left (the walk is done). `rows`: the keys it read (the batch's rows when it was read).
 */
export async function nextStringBatch(
  ex: Executor,
  mapping: SchemaMapping,
  { after, start, end, size }: { after: string | null; start: string; end: string; size: number },
): Promise<{ range: BatchRange; rows: number } | null> {
  const { table, keyColumn: key } = mapping;
  const lowerExclusive = after !== null;
  const limit = Math.max(1, Math.floor(size));
  const keys = await ex.select<{ k: unknown }>(`SELECT ${key} AS k FROM ${table} WHERE ${rangeSql(key, { lowerExclusive })} ORDER BY ${key} LIMIT ${limit}`, [after ?? start, end]);
  const last = keys.at(-1);
  if (last === undefined) return null;
  return { range: { lower: after ?? start, lowerExclusive, upper: keys.length < limit ? end : String(last.k) }, rows: keys.length };
}
