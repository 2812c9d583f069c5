// Installing the sync triggers behind a long transaction on MariaDB (make test-full: it waits seconds on
// purpose): CREATE TRIGGER needs an exclusive metadata lock on users; with the server's default lock_wait_timeout
// (one day) it would queue every later query on the table behind it until that transaction ends. Through
// runOnlineDdl it waits at most 2 s per attempt, steps aside, retries, and completes once the transaction ends.
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { installSyncTriggers, syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { mysqlTarget, unique } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';

const target = await mysqlTarget();

describe('installing the sync triggers behind a long transaction', () => {
  it.skipIf(target.skip)(
    'When the install waits behind a long transaction on users, then other queries on users stall only about its lock_wait_timeout (2 s), and it completes once the transaction commits',
    async () => {
      const database = await target.create({ migrateTo: '007-relax-old-columns' });
      const holder = await mysql.createConnection({ uri: database.url });
      const reader = await mysql.createConnection({ uri: database.url });
      try {
        const name = unique('long-tx');
        await database.db.run(`INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, $2, ${database.db.dialect.now}, ${database.db.dialect.now})`, [name, `${name}@example.test`]);
        await holder.query('START TRANSACTION');
        await holder.query('SELECT COUNT(*) FROM users');
        const log: string[] = [];
        let settled = false;
        const install = installSyncTriggers(database.db, ['up', 'down'], { log: (line) => log.push(line) }).finally(() => (settled = true));
        await waitFor(
          async () => {
            const [rows] = await reader.query(
              "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'Waiting for table metadata lock' AND INFO LIKE 'CREATE TRIGGER%'",
            );
            return Number((rows as { n: number }[])[0]!.n) > 0 ? true : undefined;
          },
          { timeoutMs: 10_000, what: 'CREATE TRIGGER to wait for the metadata lock' },
        );

        const started = performance.now();
        const [rows] = await reader.query({ sql: 'SELECT name FROM users', timeout: 10_000 });
        const stalledMs = performance.now() - started;
        const settledWhileHeld = settled;
        await holder.query('COMMIT');
        await install;

        expect((rows as { name: string }[]).map((r) => r.name)).toContain(name);
        // 3x the 2 s wait, so a loaded machine meets it; with the default lock_wait_timeout the reader's 10 s timeout fires.
        expect(stalledMs).toBeLessThan(6000);
        expect(settledWhileHeld).toBe(false);
        expect(log.some((line) => line.includes('waiting for a lock'))).toBe(true);
        expect(await syncTriggerPresence(database.db)).toEqual({ up: 'installed', down: 'installed' });
      } finally {
        await holder.end();
        await reader.end();
        await database.drop();
      }
    },
    60_000,
  );
});
