// npm run db:migrate [-- --to NAME]   applies pending migrations (never the contract step)
// npm run db:migrate:down             reverts the last applied migration, unless its gate refuses (exit 1, one
//                                     line naming the stage): shared/rollout/migrate-down-gate.ts
// SYNC=app|trigger (up only; unset: the recorded mode, app by default): the sync mode, recorded once in the
// expand phase; with trigger, up installs the sync triggers (shared/rollout/sync.ts). The only reader of SYNC.
import { appliedMigrations, knownMigration, migrateDown, migrateUp } from '../shared/migrations/runner.ts';
import { appliedMigrationNames } from '../shared/migrations/applied.ts';
import { migrateDownReasons } from '../shared/rollout/migrate-down-gate.ts';
import { readRolloutState } from '../shared/rollout/state.ts';
import { applySyncMode, beforeRevert, ROLLOUT_LOG_MIGRATION, syncModeUnsupported } from '../shared/rollout/sync.ts';
import { parseSyncMode } from '../shared/sync/mode.ts';
import { migrations } from '../shared/migrations/index.ts';
import { openDatabase, parseOptions, runCli, UsageError } from './cli.ts';

const usage = 'db-migrate up [--to NAME] | db-migrate down';

await runCli('db:migrate', usage, async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'up' && command !== 'down') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const { values } = parseOptions(rest, command === 'up' ? { to: { type: 'string' } } : {});
  const to = (values as { to?: string }).to;
  if (to !== undefined && !knownMigration(to)) throw new UsageError(`--to: unknown migration ${JSON.stringify(to)}`);
  const sync = syncOption(command, to);
  const db = await openDatabase();
  try {
    if (command === 'up') {
      const applied = await migrateUp(db, { to, log: console.log });
      for (const { name, ms } of applied) console.log(`applied ${name} (${ms} ms)`);
      if (applied.length === 0) console.log('nothing to apply');
      await applySyncMode(db, sync, console.log);
    } else {
      const last = (await appliedMigrationNames(db)).at(-1);
      const reasons = last === undefined ? [] : migrateDownReasons(await readRolloutState(db), last);
      if (reasons.length > 0) throw new Error(`refused: ${reasons.join('; ')}`);
      if (last !== undefined) await beforeRevert(db, last, console.log);
      const reverted = await migrateDown(db, console.log);
      console.log(reverted ? `reverted ${reverted.name} (${reverted.ms} ms)` : 'nothing to revert');
    }
    console.log(`schema (${db.dialect.serverVersion}): ${(await appliedMigrations(db)).join(', ') || 'empty'}`);
  } finally {
    await db.close();
  }
});

/** SYNC, checked before anything changes: a bad value, or one that cannot be recorded where this run stops. */
function syncOption(command: 'up' | 'down', to: string | undefined) {
  let sync;
  try {
    sync = parseSyncMode(process.env.SYNC);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // down ignores it: the mode is recorded once, and a way back keeps it.
  if (sync === undefined || command === 'down') return undefined;
  const index = (name: string) => migrations.findIndex((m) => m.name === name);
  if (to !== undefined && index(to) < index(ROLLOUT_LOG_MIGRATION)) {
    throw new UsageError(`SYNC=${sync} is recorded in the rollout log (${ROLLOUT_LOG_MIGRATION}): --to ${to} stops before it`);
  }
  const unsupported = syncModeUnsupported(sync);
  if (unsupported) throw new UsageError(`SYNC=${sync} cannot be recorded: ${unsupported}`);
  return sync;
}
