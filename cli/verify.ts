// npm run verify [-- options]   rollout step "verify": count drift between the old columns and profile_data.
//   --mode dual|new-only  what counts as drift (default: the write-mode flag). dual: profile_data NULL, invalid
//                         or not byte-equal to the old columns; new-only: NULL or invalid.
//   --chunk N             keys per SELECT (default 10000)       --sample N   drifted ids to show (default 10)
//   --sleep-ms N          pause between chunks (default 0)      --report-only  always exit 0
//   --watch               repeat every --interval-ms (default 10000) as a monitor, until SIGINT
//   --replica             read the rows on DATABASE_REPLICA_URL, once it has applied everything the primary had
//                         committed when verify began (the drift a replica reader would see; recorded on the primary)
// Exit 1 when drift > 0 (unless --report-only). Every result is recorded (verify_runs) for the rollout's gates.
import { loadReplicaUrl } from '../shared/config.ts';
import { connectDatabase } from '../shared/db/connection.ts';
import type { Database } from '../shared/db/connection.ts';
import { position, replicationDialectOf, waitForPosition } from '../shared/db/replica/read-your-writes.ts';
import { readFlagSet } from '../shared/flags/store.ts';
import { appliedMigrationNames } from '../shared/migrations/applied.ts';
import { formatDuration } from '../shared/backfill/progress.ts';
import { processOwner } from '../shared/backfill/checkpoint.ts';
import { readRolloutState } from '../shared/rollout/state.ts';
import { repairHint } from '../shared/rollout/way-back.ts';
import type { VerifyRecord } from '../shared/verify/results.ts';
import { runVerify } from '../shared/verify/verify.ts';
import { WRITE_MODES } from '../shared/flags/registry.ts';
import type { WriteMode } from '../shared/flags/registry.ts';
import { openDatabase, parseOptions, runCli, UsageError } from './cli.ts';
import { integerOption } from './integer-option.ts';
import { columns } from '../shared/schema-mapping.ts';

const usage = 'verify [--mode dual|new-only] [--chunk N] [--sample N] [--sleep-ms N] [--report-only] [--watch [--interval-ms N]] [--replica]';
/** How long verify --replica waits for the replica to catch up before giving up. */
const REPLICA_CATCH_UP_MS = 60_000;

await runCli('verify', usage, async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    mode: { type: 'string' },
    chunk: { type: 'string' },
    sample: { type: 'string' },
    'sleep-ms': { type: 'string' },
    'report-only': { type: 'boolean' },
    watch: { type: 'boolean' },
    'interval-ms': { type: 'string' },
    replica: { type: 'boolean' },
  });
  if (values.mode !== undefined && !(WRITE_MODES as readonly string[]).includes(values.mode)) {
    throw new UsageError(`--mode must be one of ${WRITE_MODES.join(', ')} (got ${JSON.stringify(values.mode)})`);
  }
  const chunk = integerOption('chunk', values.chunk, { min: 1, max: 1_000_000 });
  const sampleSize = integerOption('sample', values.sample, { min: 0, max: 1000 });
  const sleepMs = integerOption('sleep-ms', values['sleep-ms'], { min: 0, max: 60_000 });
  const intervalMs = integerOption('interval-ms', values['interval-ms'], { min: 100, max: 86_400_000 }) ?? 10_000;
  if (values['interval-ms'] !== undefined && !values.watch) throw new UsageError('--interval-ms needs --watch');
  const reportOnly = values['report-only'] ?? false;
  const replicaUrl = loadReplicaUrl();
  if (values.replica && !replicaUrl) throw new UsageError('--replica needs DATABASE_REPLICA_URL');

  const db = await openDatabase();
  const replica = values.replica ? await connectDatabase(replicaUrl!, { poolMax: 2 }).catch(async (err: Error) => {
    await db.close();
    throw new Error(`cannot connect to the replica (DATABASE_REPLICA_URL): ${err.message}`);
  }) : undefined;
  if (!(await appliedMigrationNames(db)).includes('004-verify-results')) {
    await db.close();
    throw new Error('the verify results table is missing: npm run db:migrate');
  }
  let stop = false;
  let wake = () => {};
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => ((stop = true), wake()));
  try {
    let last: VerifyRecord;
    do {
      const mode: WriteMode = (values.mode as WriteMode | undefined) ?? (await readFlagSet(db))?.values['write-mode'] ?? 'dual';
      const started = performance.now();
      let printedAt = performance.now();
      last = await runVerify(db, {
        mode,
        chunk,
        sampleSize,
        sleepMs,
        owner: processOwner(),
        readFrom: replica,
        // The catch-up target is read after the start is recorded: whatever committed before the start is then on the replica.
        beforeRead: replica ? () => replicaCaughtUp(db, replica) : undefined,
        onChunk: ({ nextId, rangeStart, rangeEnd, counts, unit = 'keys' }) => {
          if (performance.now() - printedAt < 5000) return;
          printedAt = performance.now();
          const done = Math.min(100, (100 * (nextId - rangeStart)) / Math.max(1, rangeEnd - rangeStart + 1));
          // String keys (uuid): the share of the rows counted at the start, not of a key range.
          const of = unit === 'keys' ? `keys ${rangeStart}..${rangeEnd}` : `~${rangeEnd.toLocaleString('en-US')} rows`;
          console.log(`verify (${mode}): ${done.toFixed(1)}% of ${of}, ${counts.rowsChecked.toLocaleString('en-US')} rows checked so far`);
        },
      });
      report(last, performance.now() - started, last.drift > 0 ? repairHint(await readRolloutState(db)) : '');
      if (values.watch && !stop) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, intervalMs)));
    } while (values.watch && !stop);
    return last.drift > 0 && !reportOnly ? 1 : 0;
  } finally {
    await replica?.close();
    await db.close();
  }
});

/** Waits until the replica has applied everything the primary has committed now (or fails after a minute). */
async function replicaCaughtUp(primary: Database, replica: Database): Promise<void> {
  const replication = replicationDialectOf(primary);
  const target = await position(primary, replication.primaryPositionSql);
  const started = performance.now();
  if (!(await waitForPosition(replica, replication, target, REPLICA_CATCH_UP_MS))) {
    const at = await position(replica, replication.replicaPositionSql);
    throw new Error(`the replica did not reach the primary's position ${target} within ${REPLICA_CATCH_UP_MS / 1000} s (it is at ${at}): is replication running?`);
  }
  console.log(`verify --replica: the replica caught up with ${target} in ${Math.round(performance.now() - started)} ms; reading the rows there`);
}

/** `hint`: the repair the rollout's gates accept at this stage (way-back.ts), shown with a verdict of drift. */
function report(result: VerifyRecord, ms: number, hint: string): void {
  const n = (value: number) => value.toLocaleString('en-US');
  const keys = result.keyRange ?? (result.rangeStart === null ? null : { start: result.rangeStart, end: result.rangeEnd });
  const range = keys === null ? 'an empty table' : `keys ${keys.start}..${keys.end}`;
  console.log(`verify #${result.id} (${result.mode}) over ${range}: ${n(result.rowsChecked)} rows checked in ${formatDuration(ms)}`);
  const breakdown = result.mode === 'dual' ? `missing ${n(result.missing)}, invalid ${n(result.invalid)}, different ${n(result.different)}` : `missing ${n(result.missing)}, invalid ${n(result.invalid)}`;
  console.log(`  drift: ${n(result.drift)} rows (${breakdown})`);
  for (const s of result.sample) console.log(`  id ${s.id}: ${s.reason}${s.fields.length > 0 ? ` (${s.fields.join(', ')})` : ''}`);
  if (result.drift > result.sample.length) console.log(`  ... and ${n(result.drift - result.sample.length)} more`);
  console.log(result.drift === 0 ? '  verdict: clean' : `  verdict: DRIFT${result.mode === 'dual' ? '' : ` (rows without a valid ${columns.new})`}: ${hint}`);
}
