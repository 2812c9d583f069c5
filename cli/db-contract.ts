// npm run db:contract [-- --check]   rollout step "contract" (the checklist's "Decommission the old column"): runs
// the last migration, 099-contract, which drops name and email. Refuses (exit 1, the reason on one line) unless
// the stage is new-only, no v1 is alive, a clean dual-mode verify since the last v1 stopped is on record, and a
// fresh new-only verify finds every row's profile_data valid. --check evaluates the gate and changes nothing.
// The way back: npm run db:migrate:down (re-adds the columns and fills them from profile_data).
import { processOwner } from '../shared/backfill/checkpoint.ts';
import { createMigrator } from '../shared/migrations/runner.ts';
import { checkContract } from '../shared/rollout/contract-gate.ts';
import { CONTRACT_MIGRATION } from '../shared/rollout/state.ts';
import { openDatabase, parseOptions, runCli } from './cli.ts';
import { columns } from '../shared/schema-mapping.ts';

await runCli('db:contract', 'db:contract [--check]', async () => {
  const { values } = parseOptions(process.argv.slice(2), { check: { type: 'boolean' } });
  const db = await openDatabase();
  try {
    const gate = await checkContract(db, { owner: processOwner() });
    if (!gate.ok) throw new Error(`refused: ${gate.reasons.join('; ')}`);
    if (values.check) {
      console.log(`db:contract: the gate passes (new-only verify #${gate.verify.id}: ${gate.verify.rowsChecked} rows, all with a valid ${columns.new}); nothing changed`);
      return 0;
    }
    const started = performance.now();
    await createMigrator(db, console.log).up({ migrations: [CONTRACT_MIGRATION] });
    console.log(`db:contract: applied ${CONTRACT_MIGRATION} in ${Math.round(performance.now() - started)} ms: ${columns.oldAnd} are gone; v1 can no longer start`);
    console.log(`the way back: npm run db:migrate:down (re-adds ${columns.oldAnd} and fills them from ${columns.new})`);
    return 0;
  } finally {
    await db.close();
  }
});
