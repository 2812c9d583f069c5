// Fault: the backfill (rollout step 6) is killed with -9 in the middle of a run while two v2s serve the load
// on the same rows, then started again.
// Promise: the second run resumes at the checkpoint the last committed batch wrote, completes, and verify
// finds zero drift; the load through the balancer fails nothing and sees no anomaly.
import { backfillRuns } from '../../shared/backfill/checkpoint.ts';
import { runTool, spawnTool } from '../run/operator.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';
import { columns, mapping } from '../../shared/schema-mapping.ts';

export const backfillResume: Scenario = {
  name: 'backfill-resume',
  proves: 'a backfill killed with -9 mid-run under load resumes from its checkpoint, completes, and leaves zero drift; the load fails nothing',
  async run(options: ChaosOptions) {
    // The load works on 300 judged users; the rest only make the backfill long enough to be killed mid-run. All
    // are written in setup, before SYNC=trigger's install (rows that existed before the rollout): the triggers copy
    // only writes made after it, so under trigger too the backfill has the whole key range to fill.
    const extraRows = options.short ? 8000 : 100_000;
    const run = await ChaosRun.setup('backfill-resume', options, {
      layout: [
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
      ],
      seedUsers: 300,
      bulkRows: extraRows,
    });
    const batch = options.short ? '200' : '1000';
    const sleepMs = options.short ? '15' : '10';
    const dwellMs = options.short ? 1000 : 4000;
    const env = { DATABASE_URL: run.database.url };
    return guarded(run, { failedRequests: 0, rule: 'a backfill costs no request' }, async () => {
      await run.openUnderLoad({ step: 'load', servedBy: 'v2-a', dwellMs, snapshot: { v1MayBeAlive: false } });

      run.step = 'backfill-killed';
      const runs = backfillRuns(run.db);
      const child = spawnTool('backfill', ['--batch', batch, '--sleep-ms', sleepMs], { ...process.env, ...env }, ['ignore', 'ignore', 'ignore']);
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      const deadline = Date.now() + 60_000;
      let killedAt: { nextId: number; rangeStart: number; rangeEnd: number; id: number } | null = null;
      while (!killedAt && Date.now() < deadline && child.exitCode === null) {
        const unfinished = await runs.unfinished().catch(() => null);
        // Past a third of the key range: far enough to have committed batches, far from done.
        if (unfinished && unfinished.nextId > unfinished.rangeStart + (unfinished.rangeEnd - unfinished.rangeStart) / 3) {
          child.kill('SIGKILL');
          killedAt = unfinished;
        } else {
          await run.dwell(25);
        }
      }
      const exit = await exited;
      const checkpoint = await runs.unfinished();
      run.log(`backfill killed (${exit}) at key ~${killedAt?.nextId} of ${killedAt?.rangeStart}..${killedAt?.rangeEnd}; checkpoint says next key ${checkpoint?.nextId}`);
      run.expect(exit === 'SIGKILL' && checkpoint !== null && checkpoint.nextId < checkpoint.rangeEnd, `the backfill was not killed mid-run (exit ${exit}, checkpoint ${JSON.stringify(checkpoint)})`);
      await run.dwell(dwellMs);
      await run.snapshot('backfill-killed', false);

      run.step = 'backfill-resumed';
      const second = await runTool('backfill', [], env, { quiet: true });
      const resumed = checkpoint ? second.output.includes(`resuming backfill run #${checkpoint.id} (forward) at key ${checkpoint.nextId}`) : false;
      run.log(`backfill run again: exit ${second.code} in ${second.ms} ms; resumed at the checkpoint: ${resumed}`);
      run.expect(second.code === 0, `the second backfill exited ${second.code}: ${second.output.trim().split('\n').slice(-3).join(' | ')}`);
      run.expect(resumed, `the second backfill did not resume at the checkpoint: ${second.output.trim().split('\n').slice(0, 3).join(' | ')}`);
      const done = checkpoint ? await runs.byId(checkpoint.id) : null;
      run.expect(done?.status === 'done', `backfill run #${checkpoint?.id} is ${done?.status}, not done`);
      const verify = await runTool('verify', [], env, { quiet: true });
      const drift = Number(/drift: ([\d,]+) rows/.exec(verify.output)?.[1]?.replaceAll(',', '') ?? Number.NaN);
      const [counted] = await run.db.select<{ missing: number | string }>(`SELECT COUNT(*) AS missing FROM ${mapping.table} WHERE ${mapping.newColumn} IS NULL`);
      const missing = Number(counted?.missing);
      run.log(`verify: exit ${verify.code}, drift ${drift} rows; rows without ${columns.new}: ${missing}`);
      run.expect(verify.code === 0 && drift === 0 && missing === 0, `after the resumed backfill: verify exit ${verify.code}, drift ${drift}, ${missing} rows without ${columns.new}`);
      await run.dwell(dwellMs);
      run.facts.rows = extraRows + run.seeded.length;
      run.facts.killedAtKey = killedAt?.nextId ?? null;
      run.facts.checkpointNextKey = checkpoint?.nextId ?? null;
      run.facts.keyRange = checkpoint ? [checkpoint.rangeStart, checkpoint.rangeEnd] : null;
      run.facts.resumedRunMs = second.ms;
      run.facts.rowsChangedOverBothRuns = done?.rowsChanged ?? null;
      run.facts.driftAfter = drift;
    });
  },
};
