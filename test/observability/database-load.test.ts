// Database load beside the app metrics (load/observe/database-load.ts): Threads_running and InnoDB row lock waits
// on MySQL/MariaDB, a replica's lag when one is given, and nothing (null) on SQLite.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseLoadProbe } from '../../load/observe/database-load.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { mysqlTarget, sqliteTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { privateMariadbUnavailable, startReplicaPair } from '../../load/infra/private-mariadb.ts';
import type { ReplicaPair } from '../../load/infra/private-mariadb.ts';
import { waitFor } from '../support/instances.ts';

const mysqlDb = await mysqlTarget();
const pairUnavailable = process.env.REQUIRE_MYSQL === '1' ? null : privateMariadbUnavailable();

describe('database load', () => {
  it('When the database is SQLite, then every figure is null (no server to ask)', async () => {
    const database = await sqliteTarget().create();
    try {
      expect(await databaseLoadProbe(database.db)()).toEqual({
        threadsRunning: null,
        rowLockWaits: null,
        rowLockCurrentWaits: null,
        replicaLagSeconds: null,
        replicaBehindTransactions: null,
        replicaState: null,
      });
    } finally {
      await database.drop();
    }
  });

  describe.skipIf(mysqlDb.skip)('on MySQL/MariaDB', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await mysqlDb.create();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('When one transaction waits for another\'s row lock, then the probe sees the wait now and the counter moved after', async () => {
      const name = unique('locked');
      const { id } = await usersRepository(database.db).insertOld({ name, email: `${name}@example.test` });
      const probe = databaseLoadProbe(database.db);
      const before = await probe();
      const holder = await mysql.createConnection({ uri: database.url });
      const waiter = await mysql.createConnection({ uri: database.url });
      try {
        await holder.query('BEGIN');
        await holder.query('UPDATE users SET name = ? WHERE id = ?', [`${name}-holder`, id]);
        const waiting = waiter.query('UPDATE users SET name = ? WHERE id = ?', [`${name}-waiter`, id]);

        const during = await waitFor(async () => {
          const load = await probe();
          return load.rowLockCurrentWaits! >= 1 ? load : undefined;
        }, { timeoutMs: 10_000, what: 'a row lock wait to show' });
        await holder.query('COMMIT');
        await waiting;
        const after = await probe();

        expect(before.threadsRunning).toBeGreaterThanOrEqual(1);
        expect(during.threadsRunning).toBeGreaterThanOrEqual(2);
        expect(after.rowLockWaits!).toBeGreaterThan(before.rowLockWaits!);
        expect(after.replicaState).toBeNull();
        // The waiter's write went in after the holder's: the row holds it.
        const [row] = await database.db.select<{ name: string }>('SELECT name FROM users WHERE id = $1', [id]);
        expect(row!.name).toBe(`${name}-waiter`);
      } finally {
        await holder.end();
        await waiter.end();
      }
    });
  });

  describe.skipIf(pairUnavailable !== null)('with a replica', () => {
    let pair: ReplicaPair;
    let primary: Database;
    let replica: Database;
    beforeAll(async () => {
      pair = await startReplicaPair();
      primary = await connectDatabase(`${pair.primary.url}mysql`, { poolMax: 2 });
      replica = await connectDatabase(`${pair.replica.url}mysql`, { poolMax: 2 });
    }, 60_000);
    afterAll(async () => {
      await primary?.close();
      await replica?.close();
      await pair?.stop();
    });

    it('When the replica applies events, then its lag is a number; when its SQL thread stops, then the lag is null and the transactions behind count up', async () => {
      const probe = databaseLoadProbe(primary, replica);
      const table = `test.lag_${unique('t').replace(/-/g, '_')}`;
      await primary.run('CREATE DATABASE IF NOT EXISTS test');
      await primary.run(`CREATE TABLE ${table} (id INT PRIMARY KEY) ENGINE=InnoDB`);
      expect(await pair.waitForGtid(await pair.primaryGtidPos(), 10)).toBe(true);

      const replicating = await probe();
      await pair.stopReplicaSqlThread();
      for (let id = 1; id <= 3; id++) await primary.run(`INSERT INTO ${table} (id) VALUES (${id})`);
      const stopped = await probe();
      await pair.startReplicaSqlThread();
      expect(await pair.waitForGtid(await pair.primaryGtidPos(), 10)).toBe(true);
      const caughtUp = await probe();

      expect(replicating).toMatchObject({ replicaState: 'replicating', replicaBehindTransactions: 0 });
      expect(replicating.replicaLagSeconds).toBeGreaterThanOrEqual(0);
      expect(stopped).toMatchObject({ replicaState: 'sql thread stopped', replicaLagSeconds: null, replicaBehindTransactions: 3 });
      expect(caughtUp).toMatchObject({ replicaState: 'replicating', replicaBehindTransactions: 0 });
      const [count] = await replica.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
      expect(Number(count!.n)).toBe(3);
      expect(await databaseLoadProbe(primary, primary)()).toMatchObject({ replicaState: 'not a replica', replicaLagSeconds: null });
    });
  });
});
