// The longer forms of sync-mode.test.ts (make test-full): `SYNC=trigger npm run db:migrate` as a command on
// MariaDB (make test runs the command on SQLite and the same calls in-process on MariaDB), and SYNC refused, with
// nothing applied, when its value is unknown or --to stops before the rollout log that records it.
import { describe, expect, it } from 'vitest';
import { appliedMigrationNames } from '../../shared/migrations/applied.ts';
import { recordedSyncMode } from '../../shared/sync/mode.ts';
import { syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { mysqlTarget, sqliteTarget } from '../support/databases.ts';
import { runScript } from '../support/scripts.ts';

const mysql = await mysqlTarget();

describe('SYNC=trigger npm run db:migrate, the command', () => {
  it.skipIf(mysql.skip)('When `SYNC=trigger npm run db:migrate -- --to 006-instance-strategy` runs on MariaDB, then the mode is recorded and both triggers exist', async () => {
    const database = await mysql.create({ migrateTo: '001-base' });
    try {
      const result = await runScript('cli/db-migrate.ts', ['up', '--to', '006-instance-strategy'], { DATABASE_URL: database.url, SYNC: 'trigger' }, { timeoutMs: 60_000 });

      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('sync mode trigger recorded (stage expand)');
      expect(await recordedSyncMode(database.db)).toMatchObject({ mode: 'trigger' });
      expect(await syncTriggerPresence(database.db)).toEqual({ up: 'installed', down: 'installed' });
    } finally {
      await database.drop();
    }
  }, 60_000);

  it('When SYNC has an unknown value, or names a mode but --to stops before the rollout log, then db:migrate exits 2 naming SYNC and applies nothing', async () => {
    const database = await sqliteTarget().create({ migrateTo: null });
    try {
      const bogus = await runScript('cli/db-migrate.ts', ['up'], { DATABASE_URL: database.url, SYNC: 'database' });
      const tooEarly = await runScript('cli/db-migrate.ts', ['up', '--to', '002-expand'], { DATABASE_URL: database.url, SYNC: 'trigger' });

      expect(bogus.code).toBe(2);
      expect(bogus.lines).toEqual([expect.stringMatching(/^db:migrate: SYNC must be one of app, trigger \(got "database"\)/)]);
      expect(tooEarly.code).toBe(2);
      expect(tooEarly.lines).toEqual([expect.stringMatching(/^db:migrate: SYNC=trigger is recorded in the rollout log \(005-rollout-log\): --to 002-expand stops before it/)]);
      expect(await appliedMigrationNames(database.db)).toEqual([]);
    } finally {
      await database.drop();
    }
  });
});
