// Fault: one v2 loses the primary while it and the other instances keep running (a network partition seen from
// one pod), in `live`, where reads trust profile_data. It reaches MariaDB through a pausable TCP proxy
// (load/infra/pausable-proxy.ts) that the scenario cuts; the two other v2s keep their direct connections.
// While it is cut off, the operator rolls back to read-shift (the rollback completes without it: the registry
// no longer counts it); then the link comes back, and the documented recovery runs to a clean stage.
// Promises (docs/fences.md):
// - The cut-off v2 stops serving at once: the first statement that finds the primary unreachable gives its lease
//   up and its public port closes (nginx passes over the slot), long before the lease window would end.
// - It serves nothing while cut off, and after the link is back it serves nothing before it has loaded the
//   rollback's flags: it kept the live flags while cut off, and must never answer a read trusting profile_data
//   after a rollback reported complete (the issue's suspicion; ruled out here and in test/fences/cut-off.test.ts).
// - The budget: only the requests in flight at the cut may fail, i.e. those the balancer had handed the v2
//   before its port was seen closed; none invoked after that. 0 anomalies, 0 lost acknowledged writes.
// MariaDB only (the proxy sits in front of a TCP server; SQLite has no link to cut).
import { migrateUp } from '../../shared/migrations/runner.ts';
import { ALIVE_HEARTBEATS } from '../../shared/registry/instances.ts';
import { rolloutStatus } from '../../shared/rollout/status.ts';
import { transition } from '../../shared/rollout/transitions.ts';
import { proxyInFrontOf } from '../infra/pausable-proxy.ts';
import type { PausableProxy } from '../infra/pausable-proxy.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';
import { waitFor } from '../infra/instance-process.ts';
import { connectionRefused, getJson } from './probes.ts';

const CUT_SLOT = 'v2-cut';
const HEARTBEAT_MS = 1000;
const LEASE_MS = ALIVE_HEARTBEATS * HEARTBEAT_MS;

export const cutOffV2: Scenario = {
  name: 'cut-off-v2',
  proves: 'a v2 cut off from the primary in live stops serving at once, a rollback completes without it, it serves again only with the rollback\'s flags; only requests in flight at the cut fail, 0 anomalies',
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('cut-off-v2', options, {
      layout: [
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
        { name: CUT_SLOT, version: 'v2' },
      ],
      env: { HEARTBEAT_MS: String(HEARTBEAT_MS), FLAG_POLL_MS: '100' },
    });
    const dwellMs = options.short ? 1500 : 6000;
    let proxy: PausableProxy | undefined;
    try {
      return await guarded(run, { failedRequests: 0, rule: 'requests in flight at the cut' }, async () => {
        const through = await proxyInFrontOf(run.database.url);
        proxy = through.proxy;
        await migrateUp(run.db);
        await run.openUnderLoad({ step: 'dual-write', slots: ['v2-a', 'v2-b', [CUT_SLOT, { DATABASE_URL: through.url }]], servedBy: CUT_SLOT, dwellMs });
        const cut = run.fleet.slot(CUT_SLOT).instance!;

        run.step = 'to-live';
        await run.backfillThenVerify('chaos cut-off-v2');
        for (const [stage, extra] of [['read-shift 100%', { percent: 100 }], ['live', {}]] as const) {
          const result = await transition(run.db, 'advance', { actor: 'chaos cut-off-v2', waitTimeoutMs: 30_000, ...extra });
          run.expect(result.outcome === 'completed' && result.to.label === stage, `advance to ${stage}: ${JSON.stringify(result)}`);
        }
        await run.servedBy(CUT_SLOT);
        await run.dwell(dwellMs);
        await run.snapshot('live', false);

        run.step = 'cut';
        const pendingAtCut = run.recorder.pending().length;
        const cutAt = run.recorder.now();
        proxy.pause('cut');
        const closedAt = await waitFor(() => connectionRefused(cut.port), { timeoutMs: LEASE_MS + 10_000, intervalMs: 10, what: `${CUT_SLOT}'s public port to close` }).then(() => run.recorder.now());
        const inFlightAtCut = pendingAtCut + run.recorder.ops.filter((op) => op.invokeAt >= cutAt && op.invokeAt < closedAt).length;
        run.log(`${CUT_SLOT} cut off from the primary; its public port closed ${Math.round(closedAt - cutAt)} ms later (lease window ${LEASE_MS} ms); ${inFlightAtCut} requests in flight meanwhile (any instance)`);
        run.expect(closedAt - cutAt < LEASE_MS, `${CUT_SLOT}'s port closed ${Math.round(closedAt - cutAt)} ms after the cut: not before its lease window (${LEASE_MS} ms) would have run out`);

        const goneAt = await waitFor(async () => ((await run.registry.list({ recent: 0 })).alive.some((row) => row.instanceId === CUT_SLOT) ? undefined : true), { timeoutMs: LEASE_MS + 10_000, intervalMs: 50, what: `the registry to drop ${CUT_SLOT}` }).then(() => run.recorder.now());
        run.log(`registry: ${CUT_SLOT} no longer alive ${Math.round(goneAt - cutAt)} ms after the cut`);
        run.step = 'rollback-while-cut';
        const rollback = await transition(run.db, 'rollback', { actor: 'chaos cut-off-v2', waitTimeoutMs: 30_000 });
        run.log(`rollback while ${CUT_SLOT} is cut off: ${rollback.outcome}${rollback.outcome === 'completed' ? ` to ${rollback.to.label}` : ''}`);
        run.expect(rollback.outcome === 'completed' && rollback.to.label === 'read-shift 100%', `rollback to read-shift while cut off: ${JSON.stringify(rollback)}`);
        const rollbackVersion = (await rolloutStatus(run.db)).state.flags?.version ?? Number.NaN;
        await run.dwell(dwellMs);
        await run.snapshot('rollback-while-cut', false);

        run.step = 'link-back';
        const resumeAt = run.recorder.now();
        proxy.resume();
        // The first answer the v2's public port gives after the link is back: it must carry the rollback's flags.
        const firstAnswer = await waitFor(() => getJson(`${cut.url}/healthz`), { timeoutMs: LEASE_MS + 15_000, intervalMs: 10, what: `${CUT_SLOT} to answer again` });
        const firstVersion = Number(firstAnswer.body.flagSetVersion);
        run.log(`link back: ${CUT_SLOT} answered again after ${Math.round(run.recorder.now() - resumeAt)} ms, first answer ${firstAnswer.status} with flag-set version ${firstVersion} (the rollback's: ${rollbackVersion})`);
        run.expect(firstAnswer.status === 200 && firstVersion >= rollbackVersion, `${CUT_SLOT} answered with flag-set version ${firstVersion} after the link came back, before loading the rollback's ${rollbackVersion}`);
        await run.servedBy(CUT_SLOT);
        const servedWhileCut = run.recorder.ops.filter((op) => op.instance === CUT_SLOT && op.outcome === 'ok' && op.invokeAt >= closedAt && op.invokeAt < resumeAt);
        run.expect(servedWhileCut.length === 0, `${CUT_SLOT} answered ${servedWhileCut.length} requests invoked while it was cut off`);

        run.step = 'recovery';
        // The way back from read-shift (docs/fences.md): backfill, verify, advance again.
        const verify = await run.backfillThenVerify('chaos cut-off-v2');
        const again = await transition(run.db, 'advance', { actor: 'chaos cut-off-v2', waitTimeoutMs: 30_000 });
        run.expect(again.outcome === 'completed' && again.to.label === 'live', `advance to live again: ${JSON.stringify(again)}`);
        await run.dwell(dwellMs);
        const status = await rolloutStatus(run.db);
        const alive = (await run.registry.list({ recent: 0 })).alive.map((row) => row.instanceId).sort();
        run.log(`recovery: verify found ${verify.drift} rows of drift; rollout ${status.stage.label}, alarms ${status.alarms.length}; alive: ${alive.join(', ')}`);
        run.expect(status.stage.name === 'live' && status.alarms.length === 0, `the rollout is not clean: ${status.stage.label}, ${status.alarms.join(' ')}`);
        run.expect(alive.includes(CUT_SLOT), `${CUT_SLOT} is not alive again after the link came back`);

        const failed = run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
        const failedAfter = failed.filter((op) => op.invokeAt >= closedAt);
        run.log(`${failed.length} failed requests, ${failedAfter.length} of them invoked after ${CUT_SLOT}'s port closed`);
        run.expect(failedAfter.length === 0, `${failedAfter.length} requests invoked after ${CUT_SLOT}'s port closed failed (e.g. ${JSON.stringify(failedAfter.slice(0, 3).map((op) => ({ f: op.f, status: op.status, error: op.error, instance: op.instance, step: op.step })))})`);
        await run.snapshot('recovered', false);
        run.facts.portClosedAfterMs = Math.round(closedAt - cutAt);
        run.facts.leaseWindowMs = LEASE_MS;
        run.facts.registryGoneAfterMs = Math.round(goneAt - cutAt);
        run.facts.rollback = rollback.outcome;
        run.facts.firstAnswerAfterLinkBack = { status: firstAnswer.status, flagSetVersion: firstVersion, rollbackVersion };
        run.facts.servedWhileCut = servedWhileCut.length;
        run.facts.inFlightAtCut = inFlightAtCut;
        run.facts.failedAfterPortClosed = failedAfter.length;
        run.facts.finalStage = status.stage.label;
        run.facts.alarms = status.alarms.length;
        return { failedRequests: inFlightAtCut, rule: `the ${inFlightAtCut} requests in flight from the cut until ${CUT_SLOT}'s port was seen closed (any instance; only those at ${CUT_SLOT} can fail); none after` };
      });
    } finally {
      await proxy?.close();
    }
  },
};
