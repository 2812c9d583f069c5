// Rollout steps 0 and 1 (base, expand) and the way back, run as the README runs them (npm run db:migrate
// -- --to 001-base, npm run db:migrate, npm run db:migrate:down), with v1 serving throughout: v1 never
// notices profile_data arrive or leave. 002's ADD COLUMN is online: SQLite edits the schema in place (no table
// rebuild), and on MySQL an ALTER queued behind a long transaction stalls other queries on users for at most
// its 2 s lock wait, then retries until the transaction ends.
import mysql from 'mysql2/promise';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../../shared/db/connection.ts';
import { migrateUp } from '../../../shared/migrations/runner.ts';
import { databaseTargets, unique } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';
import { inProcessApp, waitFor } from '../../support/instances.ts';
import type { InProcessApp } from '../../support/instances.ts';
import { storedUser } from '../../support/rows.ts';
import { runScript, startScript } from '../../support/scripts.ts';

const targets = await databaseTargets();

async function columnsOf(db: Database, table: string): Promise<string[]> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      : await db.select<{ name: string }>('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1', [table]);
  return rows.map((r) => r.name).sort();
}

async function tablesOf(db: Database): Promise<string[]> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await db.select<{ name: string }>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
  return rows.map((r) => r.name).sort();
}

/** v1's whole user surface once: create, update, read back, with the database state checked. */
async function v1Works(v1: InProcessApp, db: Database): Promise<void> {
  const name = unique('v1');
  const { body } = await request(v1.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201);
  const renamed = unique('v1-renamed');
  await request(v1.app).put(`/users/${body.id}`).send({ name: renamed, email: `${renamed}@example.test` }).expect(200);
  expect((await request(v1.app).get(`/users/${body.id}`).expect(200)).body).toEqual({ id: body.id, name: renamed, email: `${renamed}@example.test` });
  const [row] = await db.select<{ name: string }>('SELECT name FROM users WHERE id = $1', [body.id]);
  expect(row?.name).toBe(renamed);
}

const migrate = (database: TestDatabase, ...args: string[]) => runScript('cli/db-migrate.ts', args, { DATABASE_URL: database.url });

describe.each(targets)('002-expand on $name', (target) => {
  /** A database at the given step with an in-process v1 on it, cleaned up whatever happens. */
  const withV1 = async (migrateTo: string | null | undefined, fn: (database: TestDatabase, v1: InProcessApp) => Promise<void>) => {
    const database = await target.create({ migrateTo });
    let v1: InProcessApp | undefined;
    try {
      await fn(database, (v1 = await inProcessApp('v1', database.db)));
    } finally {
      await v1?.close();
      await database.drop();
    }
  };

  it.skipIf(target.skip)('When `db:migrate -- --to 001-base` runs, then users has no profile_data and v1 creates, updates and reads, reporting no flag set', async () => {
    const database = await target.create({ migrateTo: null });
    let v1: InProcessApp | undefined;
    try {
      const result = await migrate(database, 'up', '--to', '001-base');

      expect(result.code).toBe(0);
      expect(await columnsOf(database.db, 'users')).toEqual(['created_at', 'email', 'id', 'name', 'updated_at']);
      expect(await tablesOf(database.db)).not.toContain('flag_set');
      v1 = await inProcessApp('v1', database.db);
      await v1Works(v1, database.db);
      expect((await request(v1.app).get('/healthz').expect(200)).body.flagSetVersion).toBeNull();
    } finally {
      await v1?.close();
      await database.drop();
    }
  });

  it.skipIf(target.skip)('When `db:migrate` applies 002 while v1 serves requests, then every request succeeds and profile_data exists, NULL for v1\'s rows', async () => {
    await withV1('001-base', async (database, v1) => {
      const before = unique('before-expand');
      const existing = (await request(v1.app).post('/users').send({ name: before, email: `${before}@example.test` }).expect(201)).body.id as number;

      const migration = startScript('cli/db-migrate.ts', ['up'], { DATABASE_URL: database.url }).result;
      let finished = false;
      void migration.finally(() => (finished = true));
      let served = 0;
      while (!finished) {
        await v1Works(v1, database.db);
        served++;
        // Paced, so that this load does not starve the migration process of CPU on a small machine.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const result = await migration;

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('applied 002-expand');
      expect(served).toBeGreaterThan(0);
      expect(await columnsOf(database.db, 'users')).toContain('profile_data');
      expect((await storedUser(database.db, existing))?.profileRaw).toBeNull();
      await v1Works(v1, database.db);
      const health = await waitFor(async () => {
        const body = (await request(v1.app).get('/healthz').expect(200)).body as { flagSetVersion: number | null };
        return body.flagSetVersion === null ? undefined : body;
      }, { what: 'v1 to load the new flag set' });
      expect(health.flagSetVersion).toBe(0);
    });
  });

  it.skipIf(target.skip)('When `db:migrate:down` reverts 002, then profile_data and the flag tables are gone and v1 still works, v2\'s rows included', async () => {
    await withV1('002-expand', async (database, v1) => {
      const v2 = await inProcessApp('v2', database.db);
      const name = unique('by-v2');
      const id = (await request(v2.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201)).body.id as number;
      await v2.close();

      const result = await migrate(database, 'down');

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('reverted 002-expand');
      expect(await columnsOf(database.db, 'users')).toEqual(['created_at', 'email', 'id', 'name', 'updated_at']);
      const tables = await tablesOf(database.db);
      expect(tables).not.toContain('flags');
      expect(tables).not.toContain('flag_set');
      expect((await request(v1.app).get(`/users/${id}`).expect(200)).body).toEqual({ id, name, email: `${name}@example.test` });
      await v1Works(v1, database.db);
    });
  });
});

describe('002-expand on SQLite', () => {
  const sqlite = targets.find((t) => t.name === 'sqlite')!;

  it('When 002 adds the column on SQLite, then the users table is not rebuilt (same rootpage) and its rows are intact', async () => {
    const database = await sqlite.create({ migrateTo: '001-base' });
    try {
      const name = unique('kept');
      const id = await database.db.insert(
        `INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, $2, ${database.db.dialect.now}, ${database.db.dialect.now})`,
        [name, `${name}@example.test`],
      );
      const rootpage = async () => (await database.db.select<{ rootpage: number }>("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'users'"))[0]!.rootpage;
      const before = await rootpage();

      const applied = await migrateUp(database.db, { to: '002-expand' });

      expect(applied.map((m) => m.name)).toEqual(['002-expand']);
      expect(await rootpage()).toBe(before);
      expect(await storedUser(database.db, id)).toEqual({ id, name, email: `${name}@example.test`, profileRaw: null });
    } finally {
      await database.drop();
    }
  });
});

describe('002-expand on MySQL/MariaDB', () => {
  const mysqlTarget = targets.find((t) => t.name === 'mysql')!;

  it.skipIf(mysqlTarget.skip)(
    'When 002 waits behind a long transaction on users, then other queries on users stall only as long as its lock_wait_timeout (2 s), not until that transaction ends, and the migration completes once it commits',
    async () => {
      const database = await mysqlTarget.create({ migrateTo: '001-base' });
      const holder = await mysql.createConnection({ uri: database.url });
      const reader = await mysql.createConnection({ uri: database.url });
      try {
        const name = unique('long-tx');
        await database.db.run(`INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, $2, ${database.db.dialect.now}, ${database.db.dialect.now})`, [
          name,
          `${name}@example.test`,
        ]);
        // A transaction that has read users holds a shared metadata lock on it until it ends.
        await holder.query('START TRANSACTION');
        await holder.query('SELECT COUNT(*) FROM users');
        const log: string[] = [];
        const migration = migrateUp(database.db, { to: '002-expand', log: (line) => log.push(line) });
        let settled = false;
        void migration.then(
          () => (settled = true),
          () => (settled = true),
        );
        await waitFor(
          async () => {
            const [rows] = await reader.query(
              "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'Waiting for table metadata lock' AND INFO LIKE 'ALTER TABLE users%'",
            );
            return Number((rows as { n: number }[])[0]!.n) > 0 ? true : undefined;
          },
          { timeoutMs: 5000, what: 'the ALTER to wait for the metadata lock' },
        );

        const started = performance.now();
        const [rows] = await reader.query({ sql: 'SELECT name FROM users', timeout: 10_000 });
        const stalledMs = performance.now() - started;

        expect((rows as { name: string }[]).map((r) => r.name)).toContain(name);
        // The reader got through while the long transaction still holds its lock (settled is false): the ALTER gave
        // up after lock_wait_timeout=2 instead of queueing every query behind it (MariaDB's default: 86400 s). The
        // bound is 3x those 2 s, so a loaded machine meets it; without the timeout the reader's 10 s timeout fires.
        expect(stalledMs).toBeLessThan(6000);
        expect(settled).toBe(false);
        await holder.query('COMMIT');
        const applied = await migration;
        expect(applied.map((m) => m.name)).toEqual(['002-expand']);
        expect(log.some((line) => line.includes('waiting for a lock'))).toBe(true);
        expect(await columnsOf(database.db, 'users')).toContain('profile_data');
      } finally {
        await holder.end();
        await reader.end();
        await database.drop();
      }
    },
  );
});
