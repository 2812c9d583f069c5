// The workload that tells the two replica strategies apart: a load of creates, updates and reads through a
// balancer over v1 and v2, each connection carrying its consistency token, while the replica's SQL thread is
// stopped for two seconds mid-run. Judged per session: the naive replica-reads v2 must be caught (stale reads),
// the default strategy must show 0 anomalies under the same injected lag.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProxy } from '../../load/infra/balancer/node-proxy.ts';
import { check } from '../../load/proof/checker/index.ts';
import type { Verdict } from '../../load/proof/checker/index.ts';
import { readFinalValues, runLoad } from '../../load/proof/generator.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import type { Flags } from '../../shared/flags/index.ts';
import { replicaApp, replicaUnavailable, startReplicaSetup, title } from './support.ts';
import type { ReplicaSetup } from './support.ts';

const LOAD_SECONDS = 5;
const LAG_FROM_MS = 1500;
const LAG_FOR_MS = 2500;
// Few users per connection: under a busy machine's low throughput, a session still reads users it just wrote.
const MAX_USERS = 24;

describe.skipIf(replicaUnavailable !== null)(title('checker on replica reads under injected lag'), () => {
  let setup: ReplicaSetup;
  const flags: Flags[] = [];

  beforeAll(async () => {
    setup = await startReplicaSetup();
  }, 60_000);
  afterAll(async () => {
    await setup?.pair.startReplicaSqlThread().catch(() => {});
    await Promise.all(flags.map((f) => f.close()));
    await setup?.stop();
  });

  /** v1 and v2 (v2 with `v2Env`) behind a round-robin proxy, a load with lag injected mid-run, the verdict. */
  async function runScenario(v2Env: Record<string, string>): Promise<{ verdict: Verdict; readsDuringLag: number }> {
    const apps = await Promise.all([replicaApp('v1', setup), replicaApp('v2', setup, v2Env)]);
    flags.push(...apps.map((a) => a.flags));
    const servers = await Promise.all(
      apps.map(({ app }) => new Promise<http.Server>((resolve) => {
        const server = http.createServer(app).listen(0, '127.0.0.1', () => resolve(server));
      })),
    );
    const proxy = await startNodeProxy({ upstreams: servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`) });
    const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: null });
    const window = { from: Infinity, to: Infinity };
    const lag = (async () => {
      await new Promise((resolve) => setTimeout(resolve, LAG_FROM_MS));
      await setup.pair.stopReplicaSqlThread();
      window.from = recorder.now();
      await new Promise((resolve) => setTimeout(resolve, LAG_FOR_MS));
      window.to = recorder.now();
      await setup.pair.startReplicaSqlThread();
    })();
    try {
      await runLoad({ url: proxy.url, recorder, connections: 6, durationSeconds: LOAD_SECONDS, maxUsers: MAX_USERS, sharedUsers: 0.2, timeoutSeconds: 5 });
      await lag;
      await setup.caughtUp();
      recorder.recordFinal(await readFinalValues(proxy.url, recorder.keys()));
    } finally {
      await lag.catch(() => {});
      await proxy.stop();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
    const history = recorder.history();
    const readsDuringLag = history.ops.filter((op) => op.f === 'read' && op.outcome === 'ok' && op.invokeAt >= window.from && op.completeAt! <= window.to).length;
    return { verdict: check({ fields: history.fields, ops: history.ops, initial: history.initial, final: history.final, consistency: 'session' }), readsDuringLag };
  }

  it('When v2 reads from the replica ignoring the token and the replica lags, then the checker reports stale reads', async () => {
    const { verdict, readsDuringLag } = await runScenario({ ANTI_PATTERN: 'replica-reads' });

    expect(readsDuringLag).toBeGreaterThanOrEqual(10);
    expect(verdict.versionsSeen).toEqual(['v1', 'v2']);
    expect(verdict.byKind.stale + verdict.byKind.nonMonotonic + verdict.byKind.garbage).toBeGreaterThan(0);
    expect(verdict.anomalies).toBeGreaterThan(0);
  }, 60_000);

  it('When every read honours the token under the same lag, then the checker reports 0 anomalies (cross-session staleness only as information)', async () => {
    const { verdict, readsDuringLag } = await runScenario({});

    expect(readsDuringLag).toBeGreaterThanOrEqual(10);
    expect(verdict.acknowledgedWrites).toBeGreaterThan(20);
    expect(verdict.versionsSeen).toEqual(['v1', 'v2']);
    expect(verdict.failedRequests).toBe(0);
    expect(verdict.finalReadChecked).toBe(true);
    expect(verdict.examples).toEqual({ stale: [], nonMonotonic: [], garbage: [], lost: [], newAheadOfOld: [], phantom: [] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession).toBeDefined();
  }, 60_000);
});
