// The alarm for a v1 where nobody reads its writes (docs/fences.md): any v1 heartbeat after reads began
// trusting profile_data (live), not only a registration, raises it, and `rollout status` then exits 1. A v1
// frozen across the live gate registered long before live; only its heartbeat after resuming shows it.
import { afterEach, describe, expect, it } from 'vitest';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { rolloutStatus } from '../../shared/rollout/status.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { walkTo } from '../rollout/walk.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { runScript } from '../support/scripts.ts';

const targets = await databaseTargets();

describe.each(targets)('alarm on $name', (target) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(target.skip)('When a v1 registered before live heartbeats after live began, then rollout status raises the alarm naming it and exits 1', async () => {
    database = await target.create();
    const { db } = database;
    await seedV1Users(db, 10);
    const registry = instanceRegistry(db);
    const instanceId = unique('frozen-v1');
    // A v1 that registered, then stopped heartbeating (frozen) long enough to stop counting as alive.
    const rowId = await registry.register({ instanceId, appVersion: 'v1', address: '127.0.0.1:1', pid: 1, heartbeatMs: 100 }, null);
    await db.update(`UPDATE app_instances SET last_seen = ${db.dialect.nowMinusMs('$1')}, started_at = ${db.dialect.nowMinusMs('$1')} WHERE row_id = $2`, [60_000, rowId]);
    await walkTo(db, 'live');
    const before = await rolloutStatus(db);

    await registry.heartbeat(rowId, null);
    const after = await runScript('cli/rollout.ts', ['status'], { DATABASE_URL: database.url });

    expect(before.alarms).toEqual([]);
    expect(after.code, after.stdout).toBe(1);
    expect(after.stdout).toMatch(new RegExp(`^ALARM: v1 instance ${instanceId} .*after reads began trusting profile_data`, 'm'));
  }, 60_000);
});
