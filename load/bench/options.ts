// make bench's settings, from the environment, checked once: a bad value is one line naming the variable, exit 2.
import path from 'node:path';

export const PARTS = ['write', 'read', 'nginx', 'memory', 'backfill', 'live', 'demo'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** BENCH_SECONDS: length of each HTTP measurement (a warm-up is half as long). */
  seconds: number;
  /** BENCH_REPEAT: rounds of each comparison; the ratio reported is the median over them. */
  repeat: number;
  /** BENCH_CONNECTIONS: autocannon connections, the same for baseline and candidate. */
  connections: number;
  /** DB_POOL_MAX: the instances' pool size, the same for every version. */
  poolMax: number;
  /** BENCH_BACKFILL_ROWS: rows of the unthrottled backfill comparison. */
  backfillRows: number;
  /** BENCH_LIVE_ROWS: rows the backfill fills while a steady load runs. */
  liveRows: number;
  /** BENCH_LIVE_RATE: requests/s of that steady load. */
  liveRate: number;
  /** BENCH_QUIET_SECONDS: how long a backfill measurement waits for InnoDB to go quiet first (0: not at all). */
  quietSeconds: number;
  /** BENCH_PARTS: comma-separated subset of PARTS (default all). */
  parts: Set<Part>;
  mysqlUrl: string;
  resultsDir: string;
}

export class OptionError extends Error {}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, { min, max, integer }: { min: number; max: number; integer: boolean }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new OptionError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function benchOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const rawParts = env.BENCH_PARTS?.trim();
  const parts = new Set<Part>();
  for (const part of rawParts ? rawParts.split(',').map((p) => p.trim()) : PARTS) {
    if (!(PARTS as readonly string[]).includes(part)) throw new OptionError(`BENCH_PARTS must list parts from ${PARTS.join(', ')} (got ${JSON.stringify(part)})`);
    parts.add(part as Part);
  }
  return {
    seconds: number(env, 'BENCH_SECONDS', 3, { min: 0.5, max: 600, integer: false }),
    repeat: number(env, 'BENCH_REPEAT', 3, { min: 1, max: 50, integer: true }),
    connections: number(env, 'BENCH_CONNECTIONS', 20, { min: 1, max: 1000, integer: true }),
    poolMax: number(env, 'DB_POOL_MAX', 20, { min: 1, max: 200, integer: true }),
    backfillRows: number(env, 'BENCH_BACKFILL_ROWS', 1_000_000, { min: 1000, max: 100_000_000, integer: true }),
    liveRows: number(env, 'BENCH_LIVE_ROWS', 200_000, { min: 1000, max: 100_000_000, integer: true }),
    liveRate: number(env, 'BENCH_LIVE_RATE', 200, { min: 1, max: 100_000, integer: true }),
    quietSeconds: number(env, 'BENCH_QUIET_SECONDS', 30, { min: 0, max: 600, integer: false }),
    parts,
    mysqlUrl: env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/',
    resultsDir: path.resolve(env.RESULTS_DIR || 'results'),
  };
}
