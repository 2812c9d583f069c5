// The instance registry (checklist: "know which instances are running which version"), with real processes:
// `npm run status` shows which versions are alive; an instance killed with -9 stops being alive on its own
// within 3 heartbeats; one stopped with SIGTERM records its stop and exits 0.
// One v1 and one v2 process are shared by the tests of a database (a process costs ~1 s); each test acts
// on a different one, in file order: list both, kill -9 the v1, SIGTERM the v2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALIVE_HEARTBEATS, instanceRegistry } from '../../../shared/registry/instances.ts';
import type { InstanceRow } from '../../../shared/registry/instances.ts';
import { databaseTargets, unique } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';
import { startInstanceProcess, waitFor } from '../../support/instances.ts';
import type { InstanceProcess } from '../../support/instances.ts';
import { runScript } from '../../support/scripts.ts';

const targets = await databaseTargets();

const HEARTBEAT_MS = 1000; // the default; the processes are started without HEARTBEAT_MS

describe.each(targets)('instance registry on $name', (target) => {
  let database: TestDatabase;
  let v1: InstanceProcess;
  let v2: InstanceProcess;
  const v1Id = unique('registry-v1');
  const v2Id = unique('registry-v2');

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    [v1, v2] = await Promise.all([
      startInstanceProcess('v1', { DATABASE_URL: database.url, INSTANCE_ID: v1Id }),
      startInstanceProcess('v2', { DATABASE_URL: database.url, INSTANCE_ID: v2Id }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([v1?.stop('SIGKILL'), v2?.stop('SIGKILL')]);
    await database?.drop();
  });

  /** The registry's row for an instance id, alive or not (rows are kept as history). */
  const rowOf = async (instanceId: string): Promise<InstanceRow & { alive: boolean }> => {
    const { alive, gone } = await instanceRegistry(database.db).list({ recent: 100 });
    const row = [...alive, ...gone].find((r) => r.instanceId === instanceId);
    if (!row) throw new Error(`no registry row for ${instanceId}`);
    return row;
  };

  it.skipIf(target.skip)('When one v1 and one v2 process run on the database, then `status` shows both alive under their versions', async () => {
    const result = await runScript('cli/status.ts', [], { DATABASE_URL: database.url });

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^alive instances: 2 {2}v1: 1 {2}v2: 1$/m);
    expect(result.stdout).toMatch(new RegExp(`^ {2}v1 ${v1Id} .* pid ${v1.pid} `, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^ {2}v2 ${v2Id} .* pid ${v2.pid} `, 'm'));
    expect(await rowOf(v1Id)).toMatchObject({ appVersion: 'v1', alive: true, stoppedAt: null });
    expect(await rowOf(v2Id)).toMatchObject({ appVersion: 'v2', alive: true, stoppedAt: null });
  });

  it.skipIf(target.skip)(`When the v1 process is killed with -9, then it is no longer alive within ${ALIVE_HEARTBEATS} heartbeats and has no stop recorded`, async () => {
    expect((await rowOf(v1Id)).alive).toBe(true);

    const killedAt = Date.now();
    expect((await v1.stop('SIGKILL')).signal).toBe('SIGKILL');

    const gone = await waitFor(
      async () => {
        const row = await rowOf(v1Id);
        return row.alive ? undefined : row;
      },
      { timeoutMs: Math.max(0, killedAt + ALIVE_HEARTBEATS * HEARTBEAT_MS + 500 - Date.now()), intervalMs: 100, what: `${v1Id} to stop being alive` },
    );
    expect(gone.stoppedAt).toBeNull();
    expect((await rowOf(v2Id)).alive).toBe(true);
  });

  it.skipIf(target.skip)('When the v2 process gets SIGTERM, then it exits 0 and its row records the stop', async () => {
    expect((await rowOf(v2Id)).alive).toBe(true);

    const exit = await v2.stop('SIGTERM');

    expect(exit).toEqual({ code: 0, signal: null });
    const row = await rowOf(v2Id);
    expect(row.stoppedAt).not.toBeNull();
    expect(row.alive).toBe(false);
  });
});
