// The database clock: timestamps as 'YYYY-MM-DD HH:MM:SS.fff' on MySQL and SQLite alike. The registry, the
// backfill checkpoints, verify and the rollout's gates stamp with it and compare its timestamps with each other
// only (never with this host's clock), so clock skew between hosts cannot open a gate.
import type { Database } from './connection.ts';

/** The database clock now. */
export async function databaseNow(db: Database): Promise<string> {
  const [row] = await db.select<{ now: unknown }>(`SELECT ${db.dialect.now} AS now`);
  return dbTime(row!.now);
}

/**
 * A timestamp as the driver returned it, as 'YYYY-MM-DD HH:MM:SS.fff': SQLite and mysql2 (dateStrings, see
 * connection.ts) give that text; a Date (what Sequelize's own typeCast would give, in the connection's UTC) is
 * formatted the same way.
 */
export function dbTime(value: unknown): string {
  if (value instanceof Date) return formatDbTime(value.getTime());
  return String(value);
}

export function parseDbTime(value: string): number {
  const ms = Date.parse(`${value.trim().replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) throw new Error(`not a database timestamp: ${JSON.stringify(value)}`);
  return ms;
}

export function formatDbTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The later of two database timestamps (null = never). */
export function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return parseDbTime(a) >= parseDbTime(b) ? a : b;
}

/** a happened strictly after b (b null = never happened: anything is after it). */
export function isAfter(a: string, b: string | null): boolean {
  return b === null || parseDbTime(a) > parseDbTime(b);
}
