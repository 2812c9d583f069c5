// make bench's settings, from the environment, checked once: a bad value is one line naming the variable, exit 2.
import path from 'node:path';

export const PARTS = ['write', 'read', 'nginx', 'memory', 'soak', 'trigger', 'backfill', 'live', 'demo'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** BENCH_SECONDS: length of each HTTP measurement (a warm-up is half as long); 2 by default, 3 in the long mode. */
  seconds: number;
  /** BENCH_REPEAT: rounds of each comparison (even: ABBA order puts each contender first equally often); median and spread over them. */
  repeat: number;
  /** BENCH_LONG=1: the long mode: more rounds, 1M backfill rows, and the memory soak. */
  long: boolean;
  /** BENCH_SOAK_SECONDS: length of the memory soak (a long-mode part). */
  soakSeconds: number;
  /**
   * BENCH_TEST_SLOW_V2_MS: TEST ONLY. Every v2 instance burns this many ms of CPU per request
   * (FAULT_INJECT=slow-requests), so that a test can show the bench judging a real regression as a fail.
   * 0 (the default) in every real run; bench.json and the table's header say when it was set.
   */
  testSlowV2Ms: number;
  /** BENCH_CONNECTIONS: autocannon connections, the same for baseline and candidate. */
  connections: number;
  /** DB_POOL_MAX: the instances' pool size, the same for every version. */
  poolMax: number;
  /** BENCH_BACKFILL_ROWS: rows of the unthrottled backfill comparison. */
  backfillRows: number;
  /**
   * BENCH_BACKFILL_REPEAT: rounds of the backfill part (each seeds two tables of BENCH_BACKFILL_ROWS and waits for
   * InnoDB to settle before each of its two measurements: ~35 s per round on a quiet machine); 2 by default so that
   * the default run fits in 5 minutes (4 rounds took 138 s of 327), BENCH_REPEAT in the long mode (8 rounds of 1M rows).
   */
  backfillRepeat: number;
  /** BENCH_LIVE_ROWS: rows the backfill fills while a steady load runs. */
  liveRows: number;
  /**
   * BENCH_LIVE_REPEAT: rounds of the live part (each seeds a table, starts an instance and runs the backfill
   * under load: ~15-20 s on a quiet machine); 2 by default so that the default run fits in 5 minutes, BENCH_REPEAT
   * in the long mode.
   */
  liveRepeat: number;
  /**
   * BENCH_TRIGGER_REPEAT: rounds of the trigger part (SYNC=trigger against app: four PUT contenders and two bulk
   * UPDATEs, no goal, for choosing a strategy); 2 by default so that the default run fits nearer its 5 minutes
   * (4 rounds took 125 s of 440), BENCH_REPEAT in the long mode.
   */
  triggerRepeat: number;
  /**
   * BENCH_LIVE_BACKFILL_SECONDS: how long the live part lets the backfill run before it interrupts it (SIGINT, as
   * an operator would: resumable); 15 by default (3,000 answers at 200 req/s, against the baseline's 1,600), 0 (to
   * the end) in the long mode. The default throttle takes 15-30 s for 200,000 rows where the disk keeps up, and
   * 70-80 s where InnoDB's flushing holds it (~2,500-3,000 rows/s): it reaches its steady state within seconds,
   * so 15 s of it say what the rest would.
   */
  liveBackfillSeconds: number;
  /**
   * BENCH_LIVE_BACKFILL_ARGS: the backfill's options in the live part, space-separated (default none: its
   * defaults), to measure another throttle (`--max-redo-pct 30 --nice-ratio 2`); the backfill checks them.
   */
  liveBackfillArgs: string[];
  /**
   * BENCH_BACKFILL_ARGS: more of the backfill's options in the backfill part, after its `--unthrottled`
   * (`--workers 1`), space-separated (default none).
   */
  backfillArgs: string[];
  /** BENCH_LIVE_RATE: requests/s of that steady load. */
  liveRate: number;
  /** BENCH_QUIET_SECONDS: how long a backfill measurement waits for InnoDB to go quiet first (0: not at all); 15 by default, 30 long. */
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

/**
 * Parts only the long mode runs unless BENCH_PARTS names them: the soak (10 minutes), and the trigger part (SYNC=trigger
 * against app, no goal: it informs the choice of a sync strategy, and took 50 of the default run's 386 s).
 */
export const LONG_ONLY_PARTS: readonly Part[] = ['soak', 'trigger'];
/** Parts run when BENCH_PARTS is unset. */
const defaultParts = (long: boolean) => PARTS.filter((part) => long || !LONG_ONLY_PARTS.includes(part));

export function benchOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const rawLong = env.BENCH_LONG?.trim() ?? '';
  if (!['', '0', '1'].includes(rawLong)) throw new OptionError(`BENCH_LONG must be 0 or 1 (got ${JSON.stringify(rawLong)})`);
  const long = rawLong === '1';
  const rawParts = env.BENCH_PARTS?.trim();
  const parts = new Set<Part>();
  for (const part of rawParts ? rawParts.split(',').map((p) => p.trim()) : defaultParts(long)) {
    if (!(PARTS as readonly string[]).includes(part)) throw new OptionError(`BENCH_PARTS must list parts from ${PARTS.join(', ')} (got ${JSON.stringify(part)})`);
    parts.add(part as Part);
  }
  const repeat = number(env, 'BENCH_REPEAT', long ? 8 : 4, { min: 1, max: 50, integer: true });
  return {
    // The default run fits in 5 minutes on a 2-core machine: 2-second measurements (about 3,000 answers each at
    // the rates seen here, and 100-200 ticks of CPU time per measurement), InnoDB given 15 s to go quiet.
    seconds: number(env, 'BENCH_SECONDS', long ? 3 : 2, { min: 0.5, max: 600, integer: false }),
    repeat,
    long,
    soakSeconds: number(env, 'BENCH_SOAK_SECONDS', 600, { min: 10, max: 86_400, integer: false }),
    testSlowV2Ms: number(env, 'BENCH_TEST_SLOW_V2_MS', 0, { min: 0, max: 1000, integer: true }),
    connections: number(env, 'BENCH_CONNECTIONS', 20, { min: 1, max: 1000, integer: true }),
    poolMax: number(env, 'DB_POOL_MAX', 20, { min: 1, max: 200, integer: true }),
    backfillRows: number(env, 'BENCH_BACKFILL_ROWS', long ? 1_000_000 : 200_000, { min: 1000, max: 100_000_000, integer: true }),
    backfillRepeat: number(env, 'BENCH_BACKFILL_REPEAT', long ? repeat : Math.min(repeat, 2), { min: 1, max: 50, integer: true }),
    liveRows: number(env, 'BENCH_LIVE_ROWS', 200_000, { min: 1000, max: 100_000_000, integer: true }),
    liveRepeat: number(env, 'BENCH_LIVE_REPEAT', long ? repeat : Math.min(repeat, 2), { min: 1, max: 50, integer: true }),
    triggerRepeat: number(env, 'BENCH_TRIGGER_REPEAT', long ? repeat : Math.min(repeat, 2), { min: 1, max: 50, integer: true }),
    liveBackfillSeconds: number(env, 'BENCH_LIVE_BACKFILL_SECONDS', long ? 0 : 15, { min: 0, max: 86_400, integer: false }),
    liveBackfillArgs: (env.BENCH_LIVE_BACKFILL_ARGS ?? '').trim().split(/\s+/).filter(Boolean),
    backfillArgs: (env.BENCH_BACKFILL_ARGS ?? '').trim().split(/\s+/).filter(Boolean),
    liveRate: number(env, 'BENCH_LIVE_RATE', 200, { min: 1, max: 100_000, integer: true }),
    quietSeconds: number(env, 'BENCH_QUIET_SECONDS', long ? 30 : 15, { min: 0, max: 600, integer: false }),
    parts,
    mysqlUrl: env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/',
    resultsDir: path.resolve(env.RESULTS_DIR || 'results'),
  };
}
