// The database fence under SYNC=app (docs/fences.md), with a real v1 process: every statement checks the lease
// before it is sent (fenced-database.ts), so what is left is a statement already on the wire when the instance
// froze or lost its link, which reaches the database after the live gate passed without that instance. `rollout
// advance` to live installs the up (copy-forward) trigger first, so such a write lands in profile_data too, where
// live reads. Each v1 reaches MariaDB through a pausable proxy (load/infra/pausable-proxy.ts) that holds its
// traffic: the PUT passes every check in v1 and its UPDATE waits on the wire while the registry drops that v1,
// the backfill and verify run and the gate passes. One v1's write goes through with the fence in place; the
// other's with the up trigger dropped, as a rollout without the fence would leave it: profile_data misses it.
// MariaDB only: SQLite has no link to hold.
import { afterEach, describe, expect, it } from 'vitest';
import { proxyInFrontOf } from '../../load/infra/pausable-proxy.ts';
import type { PausableProxy } from '../../load/infra/pausable-proxy.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { dropSyncTriggers, syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { backfill, clock, clockPasses, step, verify, walkTo } from '../rollout/walk.ts';
import { mysqlTarget, unique, uniqueFields } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const mysqlDb = await mysqlTarget();

describe.skipIf(mysqlDb.skip)('a v1 write in flight across the live gate (SYNC=app)', () => {
  let database: TestDatabase | undefined;
  const proxies: PausableProxy[] = [];
  const instances: InstanceProcess[] = [];
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop('SIGKILL');
    for (const proxy of proxies.splice(0)) await proxy.close();
    await database?.drop();
    database = undefined;
  });

  // Heartbeats every 500 ms: a lease of 1.5 s, which a busy machine's heartbeat round trips do not outlast (a v1
  // whose lease lapsed would refuse the PUT before its UPDATE left), and a registry that drops a held v1 in seconds.
  const startV1BehindProxy = async (instanceId: string) => {
    const { proxy, url } = await proxyInFrontOf(database!.url);
    proxies.push(proxy);
    const v1 = await startInstanceProcess('v1', { DATABASE_URL: url, INSTANCE_ID: instanceId, HEARTBEAT_MS: '500', FLAG_POLL_MS: '50' });
    instances.push(v1);
    return { v1, proxy };
  };
  const put = (port: number, id: number, body: { name: string; email: string }) =>
    fetch(`http://127.0.0.1:${port}/users/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) }).then(
      (res) => res.status,
      (err: Error) => err.message,
    );
  const stored = async (id: number) => {
    const row = (await storedUser(database!.db, id))!;
    return { name: row.name, email: row.email, profile: storedProfile(row.profileRaw) };
  };

  it('When a v1 UPDATE sent before the live gate reaches the database after it, then the up trigger carries it into profile_data; with the trigger dropped, the same kind of write leaves profile_data behind', async () => {
    database = await mysqlDb.create();
    const { db } = database;
    const [fencedId, unfencedId] = (await seedV1Users(db, 4)).ids as [number, number];
    await walkTo(db, 'read-shift 100%');
    const fenced = await startV1BehindProxy(unique('v1-fenced'));
    const unfenced = await startV1BehindProxy(unique('v1-unfenced'));
    const fencedWrite = uniqueFields('held-fenced');
    const unfencedWrite = uniqueFields('held-unfenced');

    // One PUT each first: v1's UPDATE is then a prepared statement on its pooled connection, and the next one
    // leaves as a single packet, values included (an unprepared one would wait for its PREPARE's answer).
    expect([await put(fenced.v1.port, fencedId, uniqueFields('warm')), await put(unfenced.v1.port, unfencedId, uniqueFields('warm'))]).toEqual([200, 200]);
    fenced.proxy.pause('hold');
    unfenced.proxy.pause('hold');
    const fencedAnswer = put(fenced.v1.port, fencedId, fencedWrite);
    const unfencedAnswer = put(unfenced.v1.port, unfencedId, unfencedWrite);
    // Both UPDATEs passed v1's lease check and stage guard and are on the wire.
    await waitFor(() => (fenced.proxy.holding(fencedWrite.name) && unfenced.proxy.holding(unfencedWrite.name) ? true : undefined), { timeoutMs: 10_000, intervalMs: 10, what: 'both v1 UPDATEs to be held on the wire' });
    const alive = async () => (await instanceRegistry(db).list({ recent: 0 })).alive.map((row) => row.instanceId);
    await waitFor(async () => ((await alive()).length === 0 ? true : undefined), { timeoutMs: 15_000, intervalMs: 50, what: 'the registry to stop counting both held v1s' });
    // The live gate: a clean verify that started after the last v1 was seen, then the advance (which installs the fence).
    await backfill(db);
    await clockPasses(db, await clock(db));
    await verify(db);
    const toLive = await step(db, 'advance');
    const triggersInLive = await syncTriggerPresence(db);

    fenced.proxy.resume();
    const fencedStatus = await fencedAnswer;
    const fencedRow = await stored(fencedId);
    await dropSyncTriggers(db, ['up']);
    unfenced.proxy.resume();
    const unfencedStatus = await unfencedAnswer;
    const unfencedRow = await stored(unfencedId);

    expect(toLive).toMatchObject({ outcome: 'completed', to: { label: 'live' } });
    expect(triggersInLive).toEqual({ up: 'installed', down: 'absent' });
    // Acknowledged to its client, and where live reads it.
    expect(fencedStatus).toBe(200);
    expect(fencedRow).toEqual({ ...fencedWrite, profile: fencedWrite });
    // The same write without the fence: acknowledged, in the old columns, and missing where live reads.
    expect(unfencedStatus).toBe(200);
    expect(unfencedRow).toMatchObject(unfencedWrite);
    expect(unfencedRow.profile).not.toEqual(unfencedWrite);
  }, 120_000);
});
