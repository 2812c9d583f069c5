// Fault: the database stops mid-load and comes back (a restart). Never the machine's shared MariaDB: a
// PRIVATE server (load/harness/private-mariadb.ts: its own datadir and port) that this scenario may stop.
// Promise: while it is down every instance answers 503 on /healthz and every failed request is a clean 503
// (code database_unavailable, not an nginx 502); once it is back the same processes serve again (no
// restart); no acknowledged write is lost; failures only for requests that overlap the outage window.
import { privateMariadbUnavailable, startPrivateMariadb } from '../harness/private-mariadb.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, ChaosResult, Scenario } from './harness.ts';

const POLL_MS = 50;
/** The load generator's own request timeout: a request sent this long before the stop may still fail in it. */
const REQUEST_TIMEOUT_MS = 5000;

async function healthStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export const dbRestart: Scenario = {
  name: 'db-restart',
  proves: 'a database restart mid-load costs only clean 503s during the outage: /healthz says 503, the same processes recover on their own, no acknowledged write is lost',
  async run(options: ChaosOptions): Promise<ChaosResult> {
    const unavailable = privateMariadbUnavailable();
    if (unavailable) throw new Error(`db-restart needs a private MariaDB server: ${unavailable}`);
    const server = await startPrivateMariadb();
    let run: ChaosRun;
    try {
      run = await ChaosRun.setup('db-restart', options, {
        layout: [
          { name: 'v1-a', version: 'v1' },
          { name: 'v2-a', version: 'v2' },
          { name: 'v2-b', version: 'v2' },
        ],
        serverUrl: server.url,
      });
    } catch (err) {
      await server.destroy();
      throw err;
    }
    const before = options.short ? 2000 : 8000;
    const outageMs = options.short ? 2000 : 6000;
    const after = options.short ? 2000 : 8000;
    try {
      return await guarded(run, { failedRequests: 0, rule: 'requests overlapping the outage' }, async () => {
        await Promise.all(run.fleet.slots.map((slot) => run.start(slot.name)));
        const instances = run.fleet.slots.map((slot) => ({ name: slot.name, instance: slot.instance! }));
        await run.startBalancer();
        run.step = 'before-outage';
        run.startLoad();
        await run.servedBy('v2-a');
        await run.dwell(before);
        await run.snapshot('before-outage', true);

        run.step = 'outage';
        const downAt = run.recorder.now();
        await server.stop();
        const stoppedAt = run.recorder.now();
        run.log(`private MariaDB on port ${server.port} stopped (graceful shutdown took ${Math.round(stoppedAt - downAt)} ms)`);
        const unhealthy = new Map<string, number>();
        while (run.recorder.now() - stoppedAt < outageMs) {
          for (const { name, instance } of instances) {
            if (!unhealthy.has(name) && (await healthStatus(instance.url)) === 503) unhealthy.set(name, Math.round(run.recorder.now() - downAt));
          }
          await run.dwell(POLL_MS);
        }
        run.log(`/healthz answered 503 during the outage: ${instances.map(({ name }) => `${name} after ${unhealthy.get(name) ?? 'never'} ms`).join(', ')}`);
        run.expect(unhealthy.size === instances.length, `not every instance answered 503 on /healthz while the database was down (${[...unhealthy.keys()].join(', ') || 'none'} did)`);

        await server.start();
        const upAt = run.recorder.now();
        run.step = 'recovery';
        const recovered = new Map<string, number>();
        while (recovered.size < instances.length && run.recorder.now() - upAt < 30_000) {
          for (const { name, instance } of instances) {
            if (!recovered.has(name) && (await healthStatus(instance.url)) === 200) recovered.set(name, Math.round(run.recorder.now() - upAt));
          }
          await run.dwell(POLL_MS);
        }
        const recoveredAt = run.recorder.now();
        run.log(`database back after ${Math.round(upAt - downAt)} ms; /healthz 200 again: ${instances.map(({ name }) => `${name} ${recovered.get(name) ?? 'never'} ms later`).join(', ')}`);
        run.expect(recovered.size === instances.length, 'not every instance recovered within 30 s of the database coming back');
        const restarted = instances.filter(({ instance }) => instance.child.exitCode !== null || instance.child.signalCode !== null);
        run.expect(restarted.length === 0, `${restarted.map((i) => i.name).join(', ')} exited during the outage (they must recover without a restart)`);

        run.step = 'after-outage';
        const afterFrom = run.recorder.now();
        await run.dwell(after);
        const afterOps = run.opsBetween(afterFrom, run.recorder.now());
        const failed = run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
        const outsideWindow = failed.filter((op) => op.invokeAt < downAt - REQUEST_TIMEOUT_MS || op.invokeAt > recoveredAt);
        const unclean = failed.filter((op) => op.status !== 503 || op.error !== 'database_unavailable');
        const failedAfter = afterOps.filter((op) => op.outcome !== 'ok');
        run.log(`${failed.length} failed requests, all in the outage window: ${outsideWindow.length === 0}; not a clean 503: ${unclean.length}; after recovery ${afterOps.length} requests, ${failedAfter.length} failed`);
        run.expect(outsideWindow.length === 0, `${outsideWindow.length} requests failed outside the outage window`);
        run.expect(unclean.length === 0, `${unclean.length} failed requests were not a clean 503 database_unavailable (e.g. ${JSON.stringify(unclean.slice(0, 3).map((op) => ({ status: op.status, error: op.error })))})`);
        run.expect(afterOps.length > 0 && failedAfter.length === 0, `after recovery ${failedAfter.length} of ${afterOps.length} requests failed`);
        await run.snapshot('after-outage', true);

        const inWindow = run.recorder.ops.filter((op) => op.invokeAt >= downAt - REQUEST_TIMEOUT_MS && op.invokeAt <= recoveredAt).length;
        run.facts.outageMs = Math.round(upAt - downAt);
        run.facts.healthz503AfterMs = Object.fromEntries(unhealthy);
        run.facts.recoveredAfterMs = Object.fromEntries(recovered);
        run.facts.failedInWindow = failed.length;
        run.facts.notClean503 = unclean.length;
        run.facts.requestsInOutageWindow = inWindow;
        return { failedRequests: inWindow, rule: `the ${inWindow} requests invoked from ${REQUEST_TIMEOUT_MS / 1000} s before the stop until every instance was healthy again` };
      }, { v1MayBeAlive: true });
    } finally {
      await server.destroy();
    }
  },
};
