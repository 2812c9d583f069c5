// An instance cut off from the primary (docs/fences.md), through a pausable TCP proxy between it and MariaDB
// (load/infra/pausable-proxy.ts): the instance and the database both keep running, only the link is gone.
// - It stops serving at once: the first statement that finds the primary unreachable gives the lease up, so the
//   public port closes long before the lease window would have run out (each request meanwhile would fail).
// - It keeps its last flags while cut off, and a rollback made meanwhile completes without it (the registry no
//   longer counts it): it must not serve again, reads trusting profile_data, before it has loaded the rollback.
// MariaDB only: SQLite has no link to cut.
import { afterEach, describe, expect, it } from 'vitest';
import { proxyInFrontOf } from '../../load/infra/pausable-proxy.ts';
import type { PausableProxy } from '../../load/infra/pausable-proxy.ts';
import { ALIVE_HEARTBEATS, instanceRegistry } from '../../shared/registry/instances.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { step, walkTo } from '../rollout/walk.ts';
import { mysqlTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { connectError } from '../support/raw-http.ts';
import { probe } from './support.ts';

const mysqlDb = await mysqlTarget();

describe.skipIf(mysqlDb.skip)('an instance cut off from the primary', () => {
  let database: TestDatabase | undefined;
  let proxy: PausableProxy | undefined;
  let v2: InstanceProcess | undefined;
  afterEach(async () => {
    await v2?.stop('SIGKILL');
    await proxy?.close();
    await database?.drop();
    database = proxy = v2 = undefined;
  });

  /** A v2 whose DATABASE_URL goes through the proxy. */
  const startBehindProxy = async (instanceId: string, env: Record<string, string>) => {
    const through = await proxyInFrontOf(database!.url);
    proxy = through.proxy;
    v2 = await startInstanceProcess('v2', { DATABASE_URL: through.url, INSTANCE_ID: instanceId, ...env });
    return v2;
  };
  const isAlive = async (instanceId: string) => (await instanceRegistry(database!.db).list({ recent: 0 })).alive.some((row) => row.instanceId === instanceId);

  it('When the link to the primary is cut, then the first request that finds it unreachable fails and the public port closes at once, long before the lease window ends; once the link is back it serves again', async () => {
    database = await mysqlDb.create();
    const {
      ids: [id],
    } = await seedV1Users(database.db, 1);
    const heartbeatMs = 2000;
    const leaseMs = ALIVE_HEARTBEATS * heartbeatMs;
    const instance = await startBehindProxy(unique('cut-v2'), { HEARTBEAT_MS: String(heartbeatMs) });
    expect(await probe(instance.port, `/users/${id}`)).toMatchObject({ status: 200 });

    proxy!.pause('cut');
    const failed = await probe(instance.port, `/users/${id}`);
    const failedAt = performance.now();
    const closedAfterMs = await waitFor(async () => ((await connectError(instance.port)) === 'ECONNREFUSED' ? performance.now() - failedAt : undefined), {
      timeoutMs: leaseMs + 5000,
      intervalMs: 20,
      what: 'the public port to close',
    });
    proxy!.resume();

    expect(failed).toMatchObject({ status: 503, body: { error: { code: 'database_unavailable' } } });
    // Without the fence the port stayed open until the lease ran out: 4-6 s after the cut here.
    expect(closedAfterMs).toBeLessThan(leaseMs / 2);
    const served = await waitFor(async () => {
      const answer = await probe(instance.port, `/users/${id}`);
      return 'status' in answer && answer.status === 200 ? answer : undefined;
    }, { timeoutMs: leaseMs + 10_000, intervalMs: 50, what: 'the instance to renew its lease and serve again' });
    expect(served.body).toMatchObject({ id });
  }, 60_000);

  it('When a v2 cut off in live misses a rollback that completes without it, then once the link is back it serves nothing before it has loaded the rollback\'s flags', async () => {
    database = await mysqlDb.create();
    await seedV1Users(database.db, 5);
    await walkTo(database.db, 'live');
    const instanceId = unique('cut-v2');
    const instance = await startBehindProxy(instanceId, { HEARTBEAT_MS: '200', FLAG_POLL_MS: '50' });
    const beforeCut = await probe(instance.port, '/healthz');
    const liveVersion = 'body' in beforeCut ? Number(beforeCut.body.flagSetVersion) : NaN;

    // Held, not cut: nothing fails, the instance just hears nothing more (its flag polls hang with the rest).
    proxy!.pause('hold');
    await waitFor(async () => ((await isAlive(instanceId)) ? undefined : true), { timeoutMs: 15_000, intervalMs: 50, what: 'the registry to stop counting the cut-off v2' });
    const rollback = await step(database.db, 'rollback');
    const publicPortWhileCut = await connectError(instance.port);
    proxy!.resume();
    const firstServed = await waitFor(async () => {
      const answer = await probe(instance.port, '/healthz');
      return 'status' in answer ? answer : undefined;
    }, { timeoutMs: 15_000, intervalMs: 10, what: 'the public port to answer again' });

    expect(rollback).toMatchObject({ outcome: 'completed', to: { label: 'read-shift 100%' } });
    expect(publicPortWhileCut).toBe('ECONNREFUSED');
    expect(liveVersion).toBeGreaterThan(0);
    expect(firstServed).toMatchObject({ status: 200, body: { flags: { 'read-trust-new': false } } });
    expect(Number(firstServed.body.flagSetVersion)).toBeGreaterThan(liveVersion);
  }, 90_000);
});
