// Fault: SIGTERM during the rolling replacement (rollout step 5): two v1s are replaced one at a time by two
// v2s while the load runs. Promise: 0 failed requests. Each v1 drains (stops listening, answers Connection:
// close, lets nginx close its idle keep-alive connections first) and exits 0; nothing is lost and no
// nginx reload happens (the v2s start in slots the balancer already lists).
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';

export const sigtermRolling: Scenario = {
  name: 'sigterm-rolling',
  proves: 'SIGTERM during the rolling replacement of v1 by v2 costs 0 failed requests: every instance drains and exits 0',
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('sigterm-rolling', options, {
      layout: [
        { name: 'v1-a', version: 'v1' },
        { name: 'v1-b', version: 'v1' },
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
      ],
    });
    const dwellMs = options.short ? 1000 : 5000;
    return guarded(run, { failedRequests: 0, rule: 'a drain loses nothing' }, async () => {
      await run.openUnderLoad({ step: 'v1-only', slots: ['v1-a', 'v1-b'], servedBy: 'v1-a', dwellMs, snapshot: { v1MayBeAlive: true } });

      const exits: Record<string, unknown> = {};
      for (const [v1, v2] of [['v1-a', 'v2-a'], ['v1-b', 'v2-b']] as const) {
        run.step = `replace-${v1}`;
        await run.start(v2);
        await run.servedBy(v2);
        const stopped = await run.fleet.stop(v1, 'SIGTERM');
        exits[v1] = stopped;
        run.log(`${v2} serving; ${v1} got SIGTERM, drained and exited ${stopped.code} in ${stopped.ms} ms`);
        run.expect(stopped.code === 0, `${v1} exited ${stopped.code ?? stopped.signal} after SIGTERM (a drain exits 0)`);
        await run.dwell(dwellMs);
        await run.snapshot(`replace-${v1}`, true);
      }
      run.step = 'v2-only';
      await run.dwell(dwellMs);
      const { alive } = await run.registry.list();
      const aliveVersions = alive.map((i) => `${i.instanceId}`).sort();
      run.log(`registry after the replacement: ${aliveVersions.join(', ')}`);
      run.expect(alive.every((i) => i.appVersion === 'v2') && alive.length === 2, `the registry lists ${aliveVersions.join(', ')} after the replacement (expected v2-a, v2-b)`);
      run.facts.exits = exits;
      run.facts.aliveAfter = aliveVersions;
    });
  },
};
