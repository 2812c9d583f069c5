// SYNC=trigger (shared/sync/mode.ts, shared/rollout/sync.ts): read by `npm run db:migrate` only, recorded once in the
// database (the rollout log), shown by `rollout status`; with it db:migrate installs both sync triggers in the
// expand phase; the contract removes them before dropping the old columns and its way back re-installs them;
// reverting 002-expand removes them first. SYNC's parser here; the command refusing a bad SYNC with nothing
// changed is in sync-mode.full.test.ts.
import { describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { appliedMigrationNames } from '../../shared/migrations/applied.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';
import { createMigrator, migrateDown, migrateUp } from '../../shared/migrations/runner.ts';
import { formatStatus, rolloutStatus } from '../../shared/rollout/status.ts';
import { applySyncMode, beforeRevert } from '../../shared/rollout/sync.ts';
import { parseSyncMode, recordedSyncMode } from '../../shared/sync/mode.ts';
import { syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { databaseTargets, uniqueFields } from '../support/databases.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import { runScript } from '../support/scripts.ts';
import type { Key } from '../../shared/mapping-contract.ts';

const targets = await databaseTargets();


/** What `SYNC=<mode> npm run db:migrate -- --to <to>` does, in this process, with its output collected. */
async function inProcessMigrate(db: Database, to: string, mode: 'app' | 'trigger') {
  const lines: string[] = [];
  await migrateUp(db, { to, log: (line) => lines.push(line) });
  await applySyncMode(db, mode, (line) => lines.push(line));
  return { code: 0, stdout: lines.join('\n'), stderr: '' };
}

async function row(db: Database, id: Key) {
  const stored = await storedUser(db, id);
  return { name: stored?.name, email: stored?.email, profile: storedProfile(stored?.profileRaw) };
}

describe.each(targets)('SYNC=trigger on $name', (target) => {
  it.skipIf(target.skip)(
    'When `SYNC=trigger npm run db:migrate -- --to 006-instance-strategy` runs, then the mode is recorded and shown by rollout status, both triggers exist, v1 and new-only writes reach the other side, and a second mode is refused',
    async () => {
      const database = await target.create({ migrateTo: '001-base' });
      try {
        const { db, url } = database;
        // The command itself on SQLite; on MariaDB the same two calls it makes (for make test's time: the command
        // runs on MariaDB in sync-mode.full.test.ts).
        const result =
          target.name === 'sqlite'
            ? await runScript('cli/db-migrate.ts', ['up', '--to', '006-instance-strategy'], { DATABASE_URL: url, SYNC: 'trigger' }, { timeoutMs: 60_000 })
            : await inProcessMigrate(db, '006-instance-strategy', 'trigger');
        const status = formatStatus(await rolloutStatus(db));
        const users = usersRepository(db);
        const byV1 = uniqueFields('v1');
        const { id } = await users.insertOld(byV1);
        const byV2 = uniqueFields('new-only');
        await users.updateNewOnly(id, JSON.stringify(byV2));
        const otherMode = await applySyncMode(db, 'app').then(
          () => null,
          (err: Error) => err.message,
        );

        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('sync mode trigger recorded (stage expand)');
        expect(result.stdout).toContain('sync triggers installed: up, down');
        expect(await recordedSyncMode(db)).toMatchObject({ mode: 'trigger', recordedAt: expect.any(String) });
        expect(status).toMatch(/\n {2}sync {6}trigger \(recorded [^)]+\); triggers: up installed, down installed\n/);
        expect(status).toMatch(/log #\d+ \S+ \S+ sync \{"sync":"trigger"\} recorded in expand/);
        expect(await row(db, id)).toEqual({ ...byV2, profile: byV2 });
        expect(otherMode).toMatch(/^SYNC=app, but the database records sync mode trigger \(since .+\): the mode is chosen once, in the expand phase$/);
      } finally {
        await database.drop();
      }
    },
    60_000,
  );

  it.skipIf(target.skip)(
    'When the contract runs under SYNC=trigger, then it removes the triggers before dropping the old columns (new-only inserts keep working), and its way back re-adds the columns and re-installs both triggers',
    async () => {
      const database = await target.create({ migrateTo: '007-relax-old-columns' });
      try {
        const { db } = database;
        await applySyncMode(db, 'trigger');
        const users = usersRepository(db);
        const before = uniqueFields('before-contract');
        const { id } = await users.insertOld(before);

        await createMigrator(db).up({ migrations: ['099-contract'] });
        const contracted = { columns: await tableColumns(db, 'users'), triggers: await syncTriggerPresence(db) };
        const byNewOnly = uniqueFields('contracted');
        const newOnlyId = await users.insertNewOnly(JSON.stringify(byNewOnly));
        await migrateDown(db);
        const byV1 = uniqueFields('after-way-back');
        await users.updateOld(id, byV1);

        expect(contracted.columns).not.toContain('name');
        expect(contracted.triggers).toEqual({ up: 'absent', down: 'absent' });
        expect(await syncTriggerPresence(db)).toEqual({ up: 'installed', down: 'installed' });
        expect(await row(db, newOnlyId)).toEqual({ ...byNewOnly, profile: byNewOnly });
        expect(await row(db, id)).toEqual({ ...byV1, profile: byV1 });
      } finally {
        await database.drop();
      }
    },
    60_000,
  );

  it.skipIf(target.skip)('When 002-expand is reverted under SYNC=trigger, then the triggers go first and v1 keeps writing', async () => {
    const database = await target.create({ migrateTo: '006-instance-strategy' });
    try {
      const { db } = database;
      await applySyncMode(db, 'trigger');
      for (const name of ['006-instance-strategy', '005-rollout-log', '004-verify-results', '003-backfill-checkpoint', '002-expand']) {
        await beforeRevert(db, name);
        expect((await migrateDown(db))?.name).toBe(name);
      }
      const byV1 = uniqueFields('base');

      const { id } = await usersRepository(db).insertOld(byV1);

      expect(await appliedMigrationNames(db)).toEqual(['001-base']);
      expect(await syncTriggerPresence(db)).toEqual({ up: 'absent', down: 'absent' });
      expect(await db.select('SELECT name, email FROM users WHERE id = $1', [id])).toEqual([byV1]);
    } finally {
      await database.drop();
    }
  });
});

describe('SYNC, parsed', () => {
  it('When SYNC is unset or empty, then no mode is requested; app and trigger are read as such; anything else is an error naming SYNC', () => {
    expect([parseSyncMode(undefined), parseSyncMode(''), parseSyncMode('app'), parseSyncMode('trigger')]).toEqual([undefined, undefined, 'app', 'trigger']);
    for (const bad of ['database', 'Trigger', ' app', 'app,trigger']) expect(() => parseSyncMode(bad)).toThrow(`SYNC must be one of app, trigger (got ${JSON.stringify(bad)})`);
  });
});
