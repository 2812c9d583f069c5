// Which database errors mean "try again" and which mean "the database is not there": the apps answer the
// second with 503, the backfill and the migrations retry the first with backoff instead of failing a run.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_GONE_ERROR',
  'SQLITE_CANTOPEN',
]);
const UNAVAILABLE_NAMES = new Set([
  'SequelizeConnectionError',
  'SequelizeConnectionRefusedError',
  'SequelizeConnectionTimedOutError',
  'SequelizeHostNotReachableError',
  'SequelizeHostNotFoundError',
  'SequelizeConnectionAcquireTimeoutError',
  // mysql-direct.ts: the instances' pools without Sequelize.
  'ConnectionAcquireTimeoutError',
]);
// Deadlock, lock wait timeout (InnoDB row locks and metadata locks), SQLite busy/locked.
const TRANSIENT_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY', 'SQLITE_LOCKED']);

function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; parent?: unknown; original?: unknown; name?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.name === 'string') codes.push(e.name);
    e = (e.parent ?? e.original) as typeof e;
  }
  return codes;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  return codesOf(err).some((code) => UNAVAILABLE_CODES.has(code) || UNAVAILABLE_NAMES.has(code));
}

export function isTransient(err: unknown): boolean {
  return codesOf(err).some((code) => TRANSIENT_CODES.has(code)) || /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as Error)?.message));
}

/** Retries fn on transient errors with capped exponential backoff; gives up after `attempts`. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  { attempts = 8, baseMs = 25, maxMs = 2000, onRetry }: { attempts?: number; baseMs?: number; maxMs?: number; onRetry?: (err: unknown, attempt: number) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      onRetry?.(err, attempt);
      const delay = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}

/** The server refused the ALGORITHM (or LOCK) clause of an ALTER: the change cannot be done that way on this table. */
export function isAlterAlgorithmRefused(err: unknown): boolean {
  return codesOf(err).some((code) => code === 'ER_ALTER_OPERATION_NOT_SUPPORTED' || code === 'ER_ALTER_OPERATION_NOT_SUPPORTED_REASON');
}

/** A table that a later migration creates is not there yet (e.g. v1 running on the base schema). */
export function isMissingTable(err: unknown): boolean {
  return codesOf(err).includes('ER_NO_SUCH_TABLE') || /no such table/.test(String((err as Error)?.message));
}
