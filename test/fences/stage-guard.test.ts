// The stage guard (docs/fences.md): every version serves only the stages it can serve safely
// (shared/rollout/stage-guard.ts). v1 reads and writes only the old columns, so once reads trust profile_data
// (live) its writes are invisible and its reads stale: started there it refuses with one line and exit 3,
// and a running v1 that sees the flags move there stops taking requests, de-registers, drains and exits 3.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFlags } from '../../shared/flags/store.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { walkTo, step } from '../rollout/walk.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { connectError } from '../support/raw-http.ts';
import { runScript } from '../support/scripts.ts';

const targets = await databaseTargets();
const GUARD_EXIT_CODE = 3;

describe.each(targets)('stage guard on $name', (target) => {
  let database: TestDatabase | undefined;
  let v1: InstanceProcess | undefined;
  afterEach(async () => {
    await v1?.stop('SIGKILL');
    await database?.drop();
    database = v1 = undefined;
  });

  const registryRows = async (instanceId: string) => {
    const { alive, gone } = await instanceRegistry(database!.db).list({ recent: 100 });
    return [...alive, ...gone].filter((row) => row.instanceId === instanceId);
  };

  it.skipIf(target.skip)('When a v1 starts in live and again in new-only, then each time it refuses with one line naming the stage and the way back, exits 3 and never registers', async () => {
    database = await target.create();
    await seedV1Users(database.db, 20);
    await walkTo(database.db, 'live');
    const instanceId = unique('late-v1');
    const env = { DATABASE_URL: database.url, PORT: '0', INSTANCE_ID: instanceId };

    const inLive = await runScript('app-v1/server.ts', [], env, { timeoutMs: 40_000 });
    expect(await step(database.db, 'advance')).toMatchObject({ outcome: 'completed', to: { label: 'new-only' } });
    const inNewOnly = await runScript('app-v1/server.ts', [], env, { timeoutMs: 40_000 });

    expect(inLive.code, inLive.stdout + inLive.stderr).toBe(GUARD_EXIT_CODE);
    expect(inLive.lines).toEqual([expect.stringMatching(/^v1 cannot serve stage live .*npm run rollout -- rollback/)]);
    expect(inNewOnly.code, inNewOnly.stdout + inNewOnly.stderr).toBe(GUARD_EXIT_CODE);
    expect(inNewOnly.lines).toEqual([expect.stringMatching(/^v1 cannot serve stage new-only .*npm run rollout -- rollback/)]);
    expect(await registryRows(instanceId)).toEqual([]);
  }, 120_000);

  it.skipIf(target.skip)('When the flags move to live while a v1 runs, then it refuses new connections, records its stop and exits 3 with the guard line', async () => {
    database = await target.create();
    const instanceId = unique('running-v1');
    v1 = await startInstanceProcess('v1', { DATABASE_URL: database.url, INSTANCE_ID: instanceId, FLAG_POLL_MS: '50' });
    expect(await connectError(v1.port)).toBeNull();

    await writeFlags(database.db, { 'read-new-percent': 100, 'read-trust-new': true }, 'test');
    const exited = await Promise.race([v1.exited, waitFor(() => undefined, { timeoutMs: 10_000, what: 'never' }).catch(() => null)]);

    expect(exited, v1.output()).toEqual({ code: GUARD_EXIT_CODE, signal: null });
    expect(v1.output()).toMatch(/^v1 cannot serve stage live .*npm run rollout -- rollback/m);
    expect(await connectError(v1.port)).toBe('ECONNREFUSED');
    const [row] = await registryRows(instanceId);
    expect(row).toMatchObject({ alive: false });
    expect(row!.stoppedAt).not.toBeNull();
  }, 60_000);
});
