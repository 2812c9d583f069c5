// npm run db:migrate [-- --to NAME]   applies pending migrations (never the contract step)
// npm run db:migrate:down             reverts the last applied migration
import { appliedMigrations, knownMigration, migrateDown, migrateUp } from '../shared/migrations/runner.ts';
import { openDatabase, parseOptions, runCli, UsageError } from './cli.ts';

const usage = 'db-migrate up [--to NAME] | db-migrate down';

await runCli('db:migrate', usage, async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'up' && command !== 'down') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const { values } = parseOptions(rest, command === 'up' ? { to: { type: 'string' } } : {});
  const to = (values as { to?: string }).to;
  if (to !== undefined && !knownMigration(to)) throw new UsageError(`--to: unknown migration ${JSON.stringify(to)}`);
  const db = await openDatabase();
  try {
    if (command === 'up') {
      const applied = await migrateUp(db, { to, log: console.log });
      for (const { name, ms } of applied) console.log(`applied ${name} (${ms} ms)`);
      if (applied.length === 0) console.log('nothing to apply');
    } else {
      const reverted = await migrateDown(db, console.log);
      console.log(reverted ? `reverted ${reverted.name} (${reverted.ms} ms)` : 'nothing to revert');
    }
    console.log(`schema (${db.dialect.serverVersion}): ${(await appliedMigrations(db)).join(', ') || 'empty'}`);
  } finally {
    await db.close();
  }
});
