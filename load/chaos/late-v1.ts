// Fault: a v1 deployed by mistake after reads moved (a stale image, a rollback of the wrong service): started
// once the rollout is in live, and again in new-only, into a slot the balancer already lists. Promise: the
// stage guard refuses it each time (one line naming the stage and the way back, exit 3) before it registers or
// takes a connection, so the rollout stays clean: no registry row, no alarm, no request failed because of it
// (nginx passes over the refused slot), 0 anomalies. See docs/fences.md. The only failures allowed are the
// v2s' own clean lease refusals (503 lease_lost, answered before the database), which a starved machine can
// cause: on a 2-core machine at load 20, a v2 missed its 3 s lease for a moment and refused 3 requests.
// Under SYNC=trigger the promise is different, and so is what this scenario checks: v1 serves through live and
// new-only there (the stage guard's trigger row; the database copies its writes into profile_data, and new-only's
// writes back into the old columns), so a v1 started late is NOT a mistake in those stages: it starts, registers
// and serves through the balancer, in live (then drains, exit 0) and again in new-only (until the end), with no
// alarm, no failed request but the v2s' clean lease refusals, and 0 anomalies: the checker judges its reads and
// writes beside v2's. Its refusal moves to the contract, which this scenario does not reach (the guard's ranges and
// the gates are tested as functions in test/rollout/sync-mode-gates.test.ts).
import { migrateUp } from '../../shared/migrations/runner.ts';
import { STAGE_GUARD_EXIT_CODE } from '../../shared/rollout/stage-guard.ts';
import { rolloutStatus } from '../../shared/rollout/status.ts';
import { transition } from '../../shared/rollout/transitions.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';

const LATE_SLOT = 'v1-late';

/** Starts the late v1 in its slot; resolves with its exit code and output when it refuses, or null if it listened. */
async function startLate(run: ChaosRun): Promise<{ code: number | null; output: string } | null> {
  try {
    await run.start(LATE_SLOT);
    return null;
  } catch (err) {
    const match = /exited with (\d+|null) before listening:\n([\s\S]*)$/.exec((err as Error).message);
    if (!match) throw err;
    return { code: match[1] === 'null' ? null : Number(match[1]), output: match[2]!.trim() };
  }
}

export const lateV1: Scenario = {
  name: 'late-v1',
  proves: 'a v1 started after live, and after new-only, refuses with exit 3 before it registers: no alarm, 0 failed requests, 0 anomalies',
  provesUnder: {
    trigger: 'under SYNC=trigger a v1 started after live, and after new-only, serves (the triggers carry its writes both ways): it registers, answers through the balancer, no alarm, 0 failed requests, 0 anomalies',
  },
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('late-v1', options, {
      layout: [
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
        { name: LATE_SLOT, version: 'v1' },
      ],
    });
    const dwellMs = options.short ? 1000 : 5000;
    const triggers = run.sync === 'trigger';
    return guarded(run, { failedRequests: 0, rule: 'a refused instance never takes a connection' }, async () => {
      const failures = () => run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
      const leaseRefusal = (op: { status?: number; error?: string }) => op.status === 503 && op.error === 'lease_lost';
      await migrateUp(run.db);
      await run.openUnderLoad({ step: 'dual-write', slots: ['v2-a', 'v2-b'], servedBy: 'v2-a', dwellMs });

      run.step = 'to-live';
      await run.backfillThenVerify('chaos late-v1');
      const steps = [{ percent: 100 }, {}, {}];
      const refusals: Record<string, unknown> = {};
      const served: Record<string, unknown> = {};
      for (const [i, stage] of (['read-shift 100%', 'live', 'new-only'] as const).entries()) {
        const result = await transition(run.db, 'advance', { actor: 'chaos late-v1', waitTimeoutMs: 30_000, ...steps[i] });
        run.expect(result.outcome === 'completed' && result.to.label === stage, `advance to ${stage}: ${JSON.stringify(result)}`);
        if (stage === 'read-shift 100%') continue;
        run.step = `v1-in-${stage}`;
        if (triggers) {
          served[stage] = await lateV1Serves(run, stage, dwellMs);
          continue;
        }
        const refused = await startLate(run);
        refusals[stage] = refused;
        run.log(`v1 started in ${stage}: ${refused ? `exit ${refused.code}: ${refused.output}` : 'it listened'}`);
        run.expect(refused?.code === STAGE_GUARD_EXIT_CODE, `the v1 started in ${stage} did not exit ${STAGE_GUARD_EXIT_CODE} (${refused ? `exit ${refused.code}` : 'it listened'})`);
        run.expect(refused !== null && refused.output.startsWith(`v1 cannot serve stage ${stage} `) && refused.output.includes('npm run rollout -- rollback'), `the v1 started in ${stage} did not print the guard line: ${refused?.output}`);
        await run.dwell(dwellMs);
        await run.snapshot(`v1-in-${stage}`, false);
      }

      const status = await rolloutStatus(run.db);
      const registry = await run.registry.list({ recent: 100 });
      const lateRows = [...registry.alive, ...registry.gone].filter((row) => row.instanceId === LATE_SLOT);
      run.log(`rollout status: ${status.stage.label}, alarms: ${status.alarms.length}; registry rows for ${LATE_SLOT}: ${lateRows.length}`);
      run.expect(status.stage.name === 'new-only', `the rollout is at ${status.stage.label}, not new-only`);
      run.expect(status.alarms.length === 0, `alarms raised: ${status.alarms.join(' ')}`);
      if (triggers) run.expect(registry.alive.some((row) => row.instanceId === LATE_SLOT), `${LATE_SLOT} is not alive in the registry in new-only under SYNC=trigger`);
      else run.expect(lateRows.length === 0, `${LATE_SLOT} registered ${lateRows.length} times`);
      const failed = failures();
      const other = failed.filter((op) => !leaseRefusal(op));
      run.log(`${failed.length} failed requests: ${failed.length - other.length} clean lease refusals (503 lease_lost), ${other.length} other`);
      run.expect(other.length === 0, `${other.length} requests failed other than by a clean lease refusal (e.g. ${JSON.stringify(other.slice(0, 3).map((op) => ({ status: op.status, error: op.error })))})`);
      run.facts.leaseRefusals = failed.length - other.length;
      if (triggers) run.facts.served = served;
      else run.facts.refusals = refusals;
      run.facts.finalStage = status.stage.label;
      run.facts.alarms = status.alarms.length;
      return { failedRequests: failed.length - other.length, rule: 'none caused by the late v1; only the v2s\' own clean lease refusals (503 lease_lost) on a starved machine' };
    }, { v1MayBeAlive: triggers });
  },
};

/**
 * SYNC=trigger: the late v1 started in `stage` serves. It must listen, answer through the balancer while the load
 * runs; in live it then drains (exit 0) so that it can be started again in new-only, where it serves to the end.
 */
async function lateV1Serves(run: ChaosRun, stage: 'live' | 'new-only', dwellMs: number): Promise<{ answered: number; drainExit?: number | null }> {
  const refused = await startLate(run);
  run.expect(refused === null, `under SYNC=trigger the v1 started in ${stage} refused (exit ${refused?.code}: ${refused?.output}); v1 serves through new-only there`);
  if (refused) return { answered: 0 };
  const since = run.recorder.now();
  await run.servedBy(LATE_SLOT);
  await run.dwell(dwellMs);
  await run.snapshot(`v1-in-${stage}`, true);
  const answered = run.opsBetween(since, run.recorder.now()).filter((op) => op.instance === LATE_SLOT && op.outcome === 'ok').length;
  run.log(`v1 started in ${stage} under SYNC=trigger: it serves, ${answered} requests answered so far`);
  if (stage === 'new-only') return { answered };
  const drained = await run.fleet.stop(LATE_SLOT, 'SIGTERM');
  run.expect(drained.code === 0, `the late v1 exited ${drained.code ?? drained.signal} when drained in ${stage} (a drain exits 0)`);
  return { answered, drainExit: drained.code };
}
