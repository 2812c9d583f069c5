// Fault: the database stops mid-load and comes back (a restart). Never the machine's shared MariaDB: a
// PRIVATE server (load/infra/private-mariadb.ts: its own datadir and port) that this scenario may stop.
// Promise: while it is down every instance stops serving: first a clean 503 (database_unavailable), and once
// its registry lease lapses (3 heartbeats without the database) it closes its public port (docs/fences.md), so
// nginx answers its own 502 "no live upstreams". Once the database is back the same processes renew their
// leases and serve again (no restart); no acknowledged write is lost; failures only for requests that overlap
// the outage window, which ends when the balancer serves again: nginx keeps a refused slot out for fail_timeout
// after its last refusal (per worker), so two fail_timeouts after every instance is healthy bound it; none after.
import { FAIL_TIMEOUT_MS } from '../infra/balancer/node-proxy.ts';
import { privateMariadbUnavailable, startPrivateMariadb } from '../infra/private-mariadb.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, ChaosResult, Scenario } from './harness.ts';

const POLL_MS = 50;
/** The load generator's own request timeout: a request sent this long before the stop may still fail in it. */
const REQUEST_TIMEOUT_MS = 5000;

/** The public /healthz status; 0 when the port refuses connections (lease lost) or does not answer. */
async function healthStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** How a request may fail in the outage: the app's clean refusal, or nginx's once every slot refused connections. */
const cleanFailure = (op: { status?: number; error?: string }) =>
  (op.status === 503 && (op.error === 'database_unavailable' || op.error === 'lease_lost')) || op.status === 502;

export const dbRestart: Scenario = {
  name: 'db-restart',
  proves: 'a database restart mid-load costs only clean refusals during the outage (503, then 502 once the leases lapsed): the instances stop serving, the same processes recover on their own, no acknowledged write is lost',
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
        await run.openUnderLoad({ step: 'before-outage', servedBy: 'v2-a', dwellMs: before, snapshot: { v1MayBeAlive: true } });
        const instances = run.fleet.slots.map((slot) => ({ name: slot.name, instance: slot.instance! }));

        run.step = 'outage';
        const downAt = run.recorder.now();
        await server.stop();
        const stoppedAt = run.recorder.now();
        run.log(`private MariaDB on port ${server.port} stopped (graceful shutdown took ${Math.round(stoppedAt - downAt)} ms)`);
        const unhealthy = new Map<string, number>();
        while (run.recorder.now() - stoppedAt < outageMs) {
          for (const { name, instance } of instances) {
            if (!unhealthy.has(name) && [0, 503].includes(await healthStatus(instance.url))) unhealthy.set(name, Math.round(run.recorder.now() - downAt));
          }
          await run.dwell(POLL_MS);
        }
        run.log(`stopped serving during the outage (/healthz 503 or the port closed): ${instances.map(({ name }) => `${name} after ${unhealthy.get(name) ?? 'never'} ms`).join(', ')}`);
        run.expect(unhealthy.size === instances.length, `not every instance stopped serving while the database was down (${[...unhealthy.keys()].join(', ') || 'none'} did)`);

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
        const healthyAt = run.recorder.now();
        run.log(`database back after ${Math.round(upAt - downAt)} ms; /healthz 200 again: ${instances.map(({ name }) => `${name} ${recovered.get(name) ?? 'never'} ms later`).join(', ')}`);
        run.expect(recovered.size === instances.length, 'not every instance recovered within 30 s of the database coming back');
        const restarted = instances.filter(({ instance }) => instance.child.exitCode !== null || instance.child.signalCode !== null);
        run.expect(restarted.length === 0, `${restarted.map((i) => i.name).join(', ')} exited during the outage (they must recover without a restart)`);

        // The balancer keeps a slot that refused a connection out of the rotation for fail_timeout after its LAST
        // refusal, which may come just before the slot's port reopened, and each nginx worker keeps its own count:
        // the outage, as clients see it, ends at most one fail_timeout after every instance is healthy again. Twice
        // that (detection lag in the polling above, a worker that sees no request for a while) bounds it; from then
        // on no request may fail.
        run.step = 'after-outage';
        const recoveredAt = healthyAt + 2 * FAIL_TIMEOUT_MS;
        await run.dwell(Math.max(0, recoveredAt - run.recorder.now()));
        const firstServed = run.recorder.ops.find((op) => op.invokeAt >= healthyAt && op.outcome === 'ok')?.invokeAt;
        const lastFailed = run.recorder.ops.reduce((last, op) => (op.invokeAt >= healthyAt && op.outcome !== 'ok' && op.completeAt !== null ? Math.max(last, op.invokeAt) : last), healthyAt);
        run.log(`after every instance was healthy: the balancer first answered ${firstServed === undefined ? 'never' : `${Math.round(firstServed - healthyAt)} ms`} later, its last refusal ${Math.round(lastFailed - healthyAt)} ms later (fail_timeout ${FAIL_TIMEOUT_MS} ms)`);
        const afterFrom = run.recorder.now();
        await run.dwell(after);
        const afterOps = run.opsBetween(afterFrom, run.recorder.now());
        const failed = run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
        const outsideWindow = failed.filter((op) => op.invokeAt < downAt - REQUEST_TIMEOUT_MS || op.invokeAt > recoveredAt);
        const unclean = failed.filter((op) => !cleanFailure(op));
        const failedAfter = afterOps.filter((op) => op.outcome !== 'ok');
        const balancer502 = failed.filter((op) => op.status === 502).length;
        run.log(`${failed.length} failed requests (${balancer502} nginx 502 once the leases lapsed), all in the outage window: ${outsideWindow.length === 0}; not a clean refusal: ${unclean.length}; after recovery ${afterOps.length} requests, ${failedAfter.length} failed`);
        run.expect(outsideWindow.length === 0, `${outsideWindow.length} requests failed outside the outage window`);
        run.expect(unclean.length === 0, `${unclean.length} failed requests were not a clean refusal (503 database_unavailable or lease_lost, or the balancer's 502) (e.g. ${JSON.stringify(unclean.slice(0, 3).map((op) => ({ status: op.status, error: op.error })))})`);
        run.expect(afterOps.length > 0 && failedAfter.length === 0, `after recovery ${failedAfter.length} of ${afterOps.length} requests failed`);
        await run.snapshot('after-outage', true);

        const inWindow = run.recorder.ops.filter((op) => op.invokeAt >= downAt - REQUEST_TIMEOUT_MS && op.invokeAt <= recoveredAt).length;
        run.facts.outageMs = Math.round(upAt - downAt);
        run.facts.healthz503AfterMs = Object.fromEntries(unhealthy);
        run.facts.recoveredAfterMs = Object.fromEntries(recovered);
        run.facts.failedInWindow = failed.length;
        run.facts.notCleanRefusal = unclean.length;
        run.facts.balancer502 = balancer502;
        run.facts.requestsInOutageWindow = inWindow;
        return { failedRequests: inWindow, rule: `the ${inWindow} requests invoked from ${REQUEST_TIMEOUT_MS / 1000} s before the stop until two balancer fail_timeouts after every instance was healthy again` };
      }, { v1MayBeAlive: true });
    } finally {
      await server.destroy();
    }
  },
};
