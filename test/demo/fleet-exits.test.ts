// The demo's fleet tells a crash from a stop: an instance that exits on its own is reported at once (the demo then
// snapshots the database before later writes can hide a write the crash tore); one the run stops is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../load/run/fleet.ts';
import type { Slot } from '../../load/run/fleet.ts';
import { sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

describe('the demo fleet on SQLite', () => {
  let database: TestDatabase;
  let fleet: Fleet;
  const exits: { slot: string; code: number | null; signal: NodeJS.Signals | null }[] = [];
  beforeAll(async () => {
    database = await sqliteTarget().create();
    fleet = await Fleet.allocate([{ name: 'v1-a', version: 'v1' }, { name: 'v1-b', version: 'v1' }], { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
    fleet.onUnexpectedExit = (slot: Slot, exit) => exits.push({ slot: slot.name, ...exit });
    await Promise.all([fleet.start('v1-a'), fleet.start('v1-b')]);
  }, 90_000);
  afterAll(async () => {
    await fleet?.stopAll();
    await database?.drop();
  });

  it('When one instance is killed from outside and the run stops the other, then only the killed one is reported as exiting on its own', async () => {
    const crashed = fleet.slot('v1-a').instance!;
    const exited = new Promise((resolve) => crashed.child.once('exit', resolve));
    process.kill(crashed.pid, 'SIGKILL');
    await exited;
    const stopped = await fleet.stop('v1-b');

    expect(stopped.code).toBe(0);
    expect(exits).toEqual([{ slot: 'v1-a', code: null, signal: 'SIGKILL' }]);
  }, 60_000);
});
