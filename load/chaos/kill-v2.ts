// Fault: `kill -9` of one v2 instance in the middle of the load (v1 and another v2 serve beside it).
// Promise: no acknowledged write is lost; only the requests in flight at the kill may fail (a POST nginx
// already sent to the dead instance is not re-sent: its outcome is unknown); the balancer routes around the
// dead slot; the registry stops listing the instance within 3 heartbeats.
import { ALIVE_HEARTBEATS } from '../../shared/registry/instances.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';

const HEARTBEAT_MS = 1000;
// The registry is polled every POLL_MS: "gone" is seen at most one poll (and one query) late.
const POLL_MS = 100;
const REGISTRY_SLACK_MS = 1000;

export const killV2: Scenario = {
  name: 'kill-v2',
  proves: 'kill -9 of a v2 mid-load loses no acknowledged write, fails only requests in flight at the kill, and the registry drops the instance within 3 heartbeats',
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('kill-v2', options, {
      layout: [
        { name: 'v1-a', version: 'v1' },
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
      ],
      env: { HEARTBEAT_MS: String(HEARTBEAT_MS) },
    });
    const before = options.short ? 3000 : 10_000;
    const after = options.short ? 4000 : 15_000;
    let inFlightAtKill = 0;
    return guarded(run, { failedRequests: 0, rule: 'requests in flight at the kill' }, async () => {
      await run.openUnderLoad({ step: 'before-kill', servedBy: 'v2-a', dwellMs: before, snapshot: { v1MayBeAlive: true } });

      run.step = 'after-kill';
      const victim = run.fleet.slot('v2-a').instance!;
      const pendingAtKill = run.recorder.pending().length;
      const killAt = run.recorder.now();
      process.kill(victim.pid, 'SIGKILL');
      await victim.exited;
      // The kill is not instantaneous: until the exit is seen, nginx may still hand the dying process a request.
      const exitAt = run.recorder.now();
      inFlightAtKill = pendingAtKill + run.recorder.ops.filter((op) => op.invokeAt >= killAt && op.invokeAt < exitAt).length;
      run.log(`v2-a (pid ${victim.pid}) killed with SIGKILL, exit seen after ${Math.round(exitAt - killAt)} ms; ${inFlightAtKill} requests were in flight meanwhile`);

      let goneMs: number | null = null;
      const registryDeadline = killAt + ALIVE_HEARTBEATS * HEARTBEAT_MS + 10_000;
      while (goneMs === null && run.recorder.now() < registryDeadline) {
        const { alive } = await run.registry.list();
        if (!alive.some((i) => i.instanceId === 'v2-a')) goneMs = Math.round(run.recorder.now() - killAt);
        else await run.dwell(POLL_MS);
      }
      const heartbeatsBudgetMs = ALIVE_HEARTBEATS * HEARTBEAT_MS + REGISTRY_SLACK_MS;
      run.log(`registry: v2-a gone from the alive list ${goneMs ?? 'never'} ms after the kill (3 heartbeats = ${ALIVE_HEARTBEATS * HEARTBEAT_MS} ms)`);
      run.expect(goneMs !== null && goneMs <= heartbeatsBudgetMs, `the registry still listed v2-a as alive ${goneMs ?? '>10000'} ms after the kill (budget ${heartbeatsBudgetMs} ms)`);

      await run.dwell(Math.max(0, after - (run.recorder.now() - killAt)));
      const afterKill = run.opsBetween(exitAt, run.recorder.now());
      const servedAfter = afterKill.filter((op) => op.outcome === 'ok');
      const failedAfter = afterKill.filter((op) => op.outcome !== 'ok');
      const failedOps = run.opsBetween(-Infinity, Infinity).filter((op) => op.outcome !== 'ok');
      run.log(`after the kill: ${servedAfter.length} requests answered by ${[...new Set(servedAfter.map((op) => op.instance))].sort().join(', ')}; ${failedAfter.length} invoked after the exit failed`);
      run.expect(servedAfter.length > 0 && !servedAfter.some((op) => op.instance === 'v2-a'), 'the balancer did not route around the dead v2-a');
      run.expect(failedAfter.length === 0, `${failedAfter.length} requests invoked after the exit failed: the balancer did not route around the dead slot (${JSON.stringify(failedAfter.slice(0, 3).map((op) => ({ f: op.f, status: op.status, error: op.error, msAfterExit: Math.round(op.invokeAt - exitAt) })))})`);
      run.facts.inFlightAtKill = inFlightAtKill;
      run.facts.registryGoneMs = goneMs;
      run.facts.registryBudgetMs = heartbeatsBudgetMs;
      run.facts.answeredAfterKill = servedAfter.length;
      run.facts.exitSeenAfterMs = Math.round(exitAt - killAt);
      run.facts.failed = failedOps.map((op) => ({ f: op.f, status: op.status ?? null, error: op.error ?? null, outcome: op.outcome, msAfterKill: Math.round(op.invokeAt - killAt) }));
      await run.snapshot('after-kill', true);
      return { failedRequests: inFlightAtKill, rule: `the ${inFlightAtKill} requests in flight from the SIGKILL until its exit was seen (any instance; only those at v2-a can fail)` };
    }, { v1MayBeAlive: true });
  },
};
