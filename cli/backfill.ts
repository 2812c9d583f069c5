// npm run backfill [-- options]   rollout step "backfill": fill profile_data from the old columns (or, with
// --reverse, the old columns from profile_data: the way back from new-only), in batches, resumable, throttled.
//   --batch N               keys per batch (default: adaptive from 1000, aiming at --target-batch-ms)
//   --target-batch-ms N     adaptive batch time (default 50: short row locks for live writes; pt-online-schema-change aims at 500)
//   --max-batch-ms N        after a slower batch, wait as long again (default 2000)
//   --sleep-ms N            pause between batches (default 0)
//   --nice-ratio R          after each batch, rest R times as long as it took (gh-ost's; default 19; 0 = no rest)
//   --max-threads-running N MySQL: wait while Threads_running is above N (default 25; 0 = never)
//   --max-redo-pct N        InnoDB: wait while the checkpoint age is above N% of its maximum (default 50; 0 = never)
//   --workers N             batches in flight at once, committed in key order (1-4; default 1;
//                           integer keys, the SQL form, MySQL/MariaDB: elsewhere 1)
//   --unthrottled           as fast as the database goes: no rest, no redo wait, 2 workers, ~150 ms batches
//                           (--nice-ratio 0 --max-redo-pct 0 --workers 2 --target-batch-ms 150; each can be given)
//   --max-lag-ms N          with DATABASE_REPLICA_URL: wait while the replica lags more (default 1500)
//   --reverse               old columns from profile_data (in live, while new-only's writes are not copied back)
//   --restart               abandon an unfinished run and start over on the current key range
//   --progress-interval-ms N  plain progress line interval when not on a terminal (default 5000)
// While it runs: npm run flags -- set backfill-pause true|false, backfill-batch-size N, backfill-sleep-ms N.
// Which way, and which drifted rows, the rollout decides (shared/rollout/way-back.ts): a row is copied only from
// the side that provably holds its newest write; rows it cannot decide are listed for the operator.
import { MAX_WORKERS, runBackfill, UNTHROTTLED_TARGET_BATCH_MS, UNTHROTTLED_WORKERS } from '../shared/backfill/backfill.ts';
import { flagControls } from '../shared/backfill/controls.ts';
import { streamProgress } from '../shared/backfill/progress.ts';
import { loadReplicaUrl } from '../shared/config.ts';
import { connectDatabase } from '../shared/db/connection.ts';
import type { Database } from '../shared/db/connection.ts';
import { backfillReasons } from '../shared/rollout/gates.ts';
import { readRolloutState } from '../shared/rollout/state.ts';
import { repairScope, undecidableAdvice, undecidableRows } from '../shared/rollout/way-back.ts';
import { openDatabase, parseOptions, runCli } from './cli.ts';
import { decimalOption, integerOption } from './integer-option.ts';

const usage =
  'backfill [--batch N] [--target-batch-ms N] [--max-batch-ms N] [--sleep-ms N] [--nice-ratio R] [--max-threads-running N] [--max-redo-pct N] [--workers N] [--unthrottled] [--max-lag-ms N] [--reverse] [--restart] [--progress-interval-ms N]';

await runCli('backfill', usage, async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    batch: { type: 'string' },
    'target-batch-ms': { type: 'string' },
    'max-batch-ms': { type: 'string' },
    'sleep-ms': { type: 'string' },
    'nice-ratio': { type: 'string' },
    'max-redo-pct': { type: 'string' },
    unthrottled: { type: 'boolean' },
    workers: { type: 'string' },
    'max-threads-running': { type: 'string' },
    'max-lag-ms': { type: 'string' },
    reverse: { type: 'boolean' },
    restart: { type: 'boolean' },
    'progress-interval-ms': { type: 'string' },
  });
  const options = {
    direction: values.reverse ? ('reverse' as const) : ('forward' as const),
    batch: integerOption('batch', values.batch, { min: 1, max: 100_000 }) ?? null,
    targetBatchMs: integerOption('target-batch-ms', values['target-batch-ms'], { min: 1, max: 60_000 }) ?? (values.unthrottled ? UNTHROTTLED_TARGET_BATCH_MS : undefined),
    maxBatchMs: integerOption('max-batch-ms', values['max-batch-ms'], { min: 1, max: 600_000 }),
    sleepMs: integerOption('sleep-ms', values['sleep-ms'], { min: 0, max: 60_000 }),
    niceRatio: decimalOption('nice-ratio', values['nice-ratio'], { min: 0, max: 100 }) ?? (values.unthrottled ? 0 : undefined),
    maxRedoPercent: integerOption('max-redo-pct', values['max-redo-pct'], { min: 0, max: 100 }) ?? (values.unthrottled ? 0 : undefined),
    workers: integerOption('workers', values.workers, { min: 1, max: MAX_WORKERS }) ?? (values.unthrottled ? UNTHROTTLED_WORKERS : undefined),
    maxThreadsRunning: integerOption('max-threads-running', values['max-threads-running'], { min: 0, max: 100_000 }),
    maxLagMs: integerOption('max-lag-ms', values['max-lag-ms'], { min: 1, max: 3_600_000 }),
    restart: values.restart ?? false,
  };
  const progressIntervalMs = integerOption('progress-interval-ms', values['progress-interval-ms'], { min: 100, max: 3_600_000 });
  const replicaUrl = loadReplicaUrl();

  const db = await openDatabase();
  let replica: Database | null = null;
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupt.abort());
  try {
    const state = await readRolloutState(db);
    const reasons = backfillReasons(state, options.direction);
    if (reasons.length > 0) throw new Error(`refused: ${reasons.join('; ')}`);
    // Which drifted rows this run may copy: only those whose newest write is provably on the side it copies from.
    const scope = repairScope(state, options.direction);
    if (replicaUrl) replica = await connectDatabase(replicaUrl, { poolMax: 1 });
    const summary = await runBackfill(
      db,
      { ...options, replica, scope },
      { controls: flagControls(db), progress: streamProgress(process.stdout, { intervalMs: progressIntervalMs }), signal: interrupt.signal },
    );
    if (summary.interrupted) {
      const at = summary.stringKeys ? `after key ${summary.stringKeys.done ?? '(none yet)'}` : `at key ${summary.nextId}`;
      console.error(`backfill: interrupted; run #${summary.runId} stopped ${at}: run it again to resume`);
      return 130;
    }
    const undecidable = await undecidableRows(db, scope);
    if (undecidable.count > 0) console.log(undecidableAdvice(undecidable));
    console.log(`next: npm run verify${options.direction === 'reverse' ? ' -- --mode dual' : ''}`);
  } finally {
    await replica?.close();
    await db.close();
  }
});
