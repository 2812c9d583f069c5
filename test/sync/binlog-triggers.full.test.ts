// With binary logging on (MySQL 8.4's default, every replication primary), MariaDB and MySQL refuse CREATE TRIGGER
// to an account without SUPER unless log_bin_trust_function_creators=1, and the least-privilege migrator has
// TRIGGER only. `SYNC=trigger npm run db:migrate` as that account must then say so in one line naming the
// variable, record no mode and create no trigger; once an administrator sets the variable, the same command
// records the mode and installs both directions. On a private MariaDB server with a binary log of its own (the
// shared one has none, and is never reconfigured by a test).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateMariadbUnavailable, startPrivateMariadb } from '../../load/infra/private-mariadb.ts';
import type { PrivateMariadb } from '../../load/infra/private-mariadb.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import { recordedSyncMode } from '../../shared/sync/mode.ts';
import { syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { unique } from '../support/databases.ts';
import { runScript } from '../support/scripts.ts';

// Without mariadbd the test is skipped, visibly, unless REQUIRE_MYSQL=1 (CI): then it runs and fails.
const unavailable = process.env.REQUIRE_MYSQL === '1' ? null : privateMariadbUnavailable();

describe.skipIf(unavailable !== null)(`SYNC=trigger on a server with binary logging${unavailable ? ` (SKIPPED: ${unavailable})` : ''}`, () => {
  let server: PrivateMariadb;
  beforeAll(async () => {
    server = await startPrivateMariadb({ logBin: true });
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('When the migrator has no SUPER and log_bin_trust_function_creators is 0, then db:migrate with SYNC=trigger refuses in one line naming the variable, records no mode and creates no trigger; once it is 1, the same command installs both directions', async () => {
    const name = unique('dwdr_binlog').replaceAll('-', '_');
    const root = await server.connect();
    await root.query(`CREATE DATABASE ${name}`);
    await root.query(`CREATE USER 'migrator_${name.slice(-8)}'@'%' IDENTIFIED BY 'pw'`);
    await root.query(`GRANT ALL PRIVILEGES ON ${name}.* TO 'migrator_${name.slice(-8)}'@'%'`);
    const migratorUrl = `mysql://migrator_${name.slice(-8)}:pw@127.0.0.1:${server.port}/${name}`;
    const rootDb = await connectDatabase(`${server.url}${name}`);
    try {
      const [variables] = await root.query('SELECT @@log_bin AS logBin, @@log_bin_trust_function_creators AS trust');
      expect(variables).toEqual([{ logBin: 1, trust: 0 }]);

      const refused = await runScript('cli/db-migrate.ts', ['up', '--to', '006-instance-strategy'], { DATABASE_URL: migratorUrl, SYNC: 'trigger' }, { timeoutMs: 60_000 });
      expect(refused.code, refused.lines.join('\n')).not.toBe(0);
      const refusal = refused.lines.filter((line) => /log_bin_trust_function_creators/.test(line));
      expect(refusal, refused.lines.join('\n')).toHaveLength(1);
      expect(refusal[0]).toMatch(/SYNC=trigger is not recorded: CREATE TRIGGER is refused to migrator_\w+@%: binary logging is on/);
      expect(refused.lines.join('\n')).not.toMatch(/^\s+at /m);
      expect((await recordedSyncMode(rootDb)).recordedAt).toBeNull();
      expect(await syncTriggerPresence(rootDb)).toEqual({ up: 'absent', down: 'absent' });

      await root.query('SET GLOBAL log_bin_trust_function_creators = 1');
      const installed = await runScript('cli/db-migrate.ts', ['up', '--to', '006-instance-strategy'], { DATABASE_URL: migratorUrl, SYNC: 'trigger' }, { timeoutMs: 60_000 });
      expect(installed.code, installed.lines.join('\n')).toBe(0);
      expect(await recordedSyncMode(rootDb)).toMatchObject({ mode: 'trigger' });
      expect(await syncTriggerPresence(rootDb)).toEqual({ up: 'installed', down: 'installed' });
    } finally {
      await root.query('SET GLOBAL log_bin_trust_function_creators = 0').catch(() => {});
      await rootDb.close();
      await root.end();
    }
  }, 120_000);
});
