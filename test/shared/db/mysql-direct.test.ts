// The instances' MySQL pools without Sequelize (shared/db/mysql-direct.ts, connectDatabase `direct`): the same
// statements give the same answers as the Sequelize-backed Database the tools use, the session runs in UTC, a
// transaction commits or rolls back whole at the isolation asked for, a pool that hands out no connection in time
// says the database is not there, and an instance's modules with a direct connection never load Sequelize.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../../shared/db/connection.ts';
import type { Database } from '../../../shared/db/connection.ts';
import { isDatabaseUnavailable } from '../../../shared/db/errors.ts';
import { bindToPositional, createDirectPool, ConnectionAcquireTimeoutError } from '../../../shared/db/mysql-direct.ts';
import { mysqlTarget } from '../../support/databases.ts';

const mysql = await mysqlTarget();
const root = path.resolve(import.meta.dirname, '../../..');

describe('bindToPositional (Sequelize\'s rule for $n bind parameters on MySQL)', () => {
  it('When a statement numbers its parameters, then each becomes ? with its value in order of appearance, repeats included', () => {
    expect(bindToPositional('UPDATE t SET a = $2, b = $1 WHERE id = $3 OR id = $2', ['x', 'y', 7])).toEqual({
      sql: 'UPDATE t SET a = ?, b = ? WHERE id = ? OR id = ?',
      values: ['y', 'x', 7, 'y'],
    });
  });

  it("When a statement holds a JSON path ('$.name'), $$ or a $ inside a word, then they are left as they are ($$ as one $)", () => {
    expect(bindToPositional("SELECT JSON_EXTRACT(p, '$.name'), '$$', a$1 FROM t WHERE id = $1", [5])).toEqual({
      sql: "SELECT JSON_EXTRACT(p, '$.name'), '$', a$1 FROM t WHERE id = ?",
      values: [5],
    });
  });

  it('When a parameter has no value, then it refuses, naming the parameter, instead of sending NULL', () => {
    expect(() => bindToPositional('SELECT $1, $2', ['only one'])).toThrow(/\$2 has no value \(1 given\)/);
    expect(() => bindToPositional('SELECT $0', ['x'])).toThrow(/\$0 has no value/);
  });
});

describe.skipIf(mysql.skip)('a direct connection on MariaDB', () => {
  async function both<T>(fn: (direct: Database, viaSequelize: Database, url: string) => Promise<T>): Promise<T> {
    const database = await mysql.create();
    const direct = await connectDatabase(database.url, { poolMax: 4, direct: true });
    const viaSequelize = await connectDatabase(database.url, { poolMax: 4 });
    try {
      return await fn(direct, viaSequelize, database.url);
    } finally {
      await direct.close();
      await viaSequelize.close();
      await database.drop();
    }
  }

  it('When the same statements run through a direct connection and through Sequelize, then they give the same rows, counts and ids', async () => {
    await both(async (direct, viaSequelize) => {
      await direct.run("CREATE TABLE things (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, doc JSON NULL, at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), n BIGINT NULL) ENGINE=InnoDB");
      const idDirect = await direct.insert('INSERT INTO things (name, doc, n) VALUES ($1, $2, $3)', ['direct', '{"a": 1}', 9007199254740993n.toString()]);
      const idSequelize = await viaSequelize.insert('INSERT INTO things (name, doc, n) VALUES ($1, $2, $3)', ['sequelize', null, null]);
      expect([idDirect, idSequelize]).toEqual([1, 2]);

      // Rows matched, not rows changed: writing the same value again still counts (FOUND_ROWS), on both.
      for (const db of [direct, viaSequelize]) {
        expect(await db.update('UPDATE things SET name = $1 WHERE id = $2', ['direct', 1])).toBe(1);
        expect(await db.update('UPDATE things SET name = $1 WHERE id = $2', ['nobody', 99])).toBe(0);
      }

      const sql = "SELECT id, name, doc, at, n, JSON_UNQUOTE(JSON_EXTRACT(doc, '$.a')) AS a FROM things ORDER BY id";
      const rows = await direct.select<Record<string, unknown>>(sql);
      expect(rows).toEqual(await viaSequelize.select(sql));
      // A BIGINT beyond 2^53 as exact text; the JSON column as the driver gives it, the same both ways.
      expect(rows[0]).toMatchObject({ id: 1, name: 'direct', n: '9007199254740993', a: '1' });
      expect(rows[0]!.at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
      expect(rows[1]).toMatchObject({ id: 2, name: 'sequelize', doc: null, n: null, a: null });
      expect([direct.dialect.name, direct.dialect.serverVersion]).toEqual([viaSequelize.dialect.name, viaSequelize.dialect.serverVersion]);
    });
  });

  it('When a direct connection asks the session for its time zone, then it runs in UTC as the Sequelize connections do', async () => {
    await both(async (direct, viaSequelize) => {
      const sql = 'SELECT @@session.time_zone AS tz';
      expect(await direct.select(sql)).toEqual([{ tz: '+00:00' }]);
      expect(await viaSequelize.select(sql)).toEqual([{ tz: '+00:00' }]);
    });
  });

  it('When statements succeed on a direct connection, then no stack trace is captured for them (mysql2 `trace` off: a capture per statement was the largest cost in the instance\'s own code)', async () => {
    await both(async (direct) => {
      await direct.run('CREATE TABLE traced (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL) ENGINE=InnoDB');
      await direct.insert('INSERT INTO traced (id, name) VALUES ($1, $2)', [1, 'one']);
      const original = Error.captureStackTrace;
      let captures = 0;
      Error.captureStackTrace = function (...args: Parameters<typeof original>) {
        captures++;
        return original.apply(this, args);
      };
      try {
        for (let i = 0; i < 20; i++) expect(await direct.select('SELECT name FROM traced WHERE id = $1', [1])).toEqual([{ name: 'one' }]);
        await direct.update('UPDATE traced SET name = $1 WHERE id = $2', ['uno', 1]);
        await direct.select('SELECT 1 AS ok');
      } finally {
        Error.captureStackTrace = original;
      }
      expect(captures).toBe(0);
    });
  });

  it('When a statement fails on a direct connection, then its error keeps the MySQL code and message, and its stack names the app function that awaited it', async () => {
    await both(async (direct) => {
      async function readsATableThatIsNotThere(db: Database) {
        const rows = await db.select('SELECT * FROM not_there_at_all WHERE id = $1', [1]);
        return rows;
      }
      const err = (await readsATableThatIsNotThere(direct).catch((e: unknown) => e)) as Error & { code?: string; sql?: string };

      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ER_NO_SUCH_TABLE');
      expect(err.message).toMatch(/not_there_at_all/);
      expect(err.stack!.split('\n')[0]).toBe(`${err.name}: ${err.message}`);
      expect(err.stack).toMatch(/readsATableThatIsNotThere/);
      expect(isDatabaseUnavailable(err)).toBe(false);
    });
  });

  it('When a direct transaction throws, then nothing it wrote remains; when it returns, everything does', async () => {
    await both(async (direct) => {
      await direct.run('CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB');
      await expect(
        direct.transaction(async (tx) => {
          await tx.run('INSERT INTO things (id, name) VALUES ($1, $2)', [1, 'rolled back']);
          throw new Error('the app failed half-way');
        }),
      ).rejects.toThrow('the app failed half-way');
      const kept = await direct.transaction(async (tx) => {
        await tx.run('INSERT INTO things (id, name) VALUES ($1, $2)', [2, 'committed']);
        return tx.select<{ id: number }>('SELECT id FROM things');
      });

      expect(kept).toEqual([{ id: 2 }]);
      expect(await direct.select('SELECT id, name FROM things')).toEqual([{ id: 2, name: 'committed' }]);
    });
  });

  it('When a direct transaction asks for READ COMMITTED, then it sees a row another connection committed meanwhile; by default (REPEATABLE READ) it does not', async () => {
    await both(async (direct, viaSequelize) => {
      await direct.run("CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB");
      await direct.run("INSERT INTO things VALUES (1, 'before')");
      const readTwice = (isolation?: 'READ COMMITTED') =>
        direct.transaction(
          async (tx) => {
            const [first] = await tx.select<{ name: string }>('SELECT name FROM things WHERE id = 1');
            await viaSequelize.update('UPDATE things SET name = $1 WHERE id = 1', [`after-${first!.name}`]);
            const [second] = await tx.select<{ name: string }>('SELECT name FROM things WHERE id = 1');
            return [first!.name, second!.name];
          },
          isolation ? { isolation } : {},
        );

      expect(await readTwice('READ COMMITTED')).toEqual(['before', 'after-before']);
      expect(await readTwice()).toEqual(['after-before', 'after-before']);
    });
  });

  it('When no pool connection is free within the acquire timeout, then the statement fails as "database not there" and the held connection still works', async () => {
    const database = await mysql.create();
    const pool = createDirectPool(database.url, { poolMax: 1, connectTimeoutMs: 2000, acquireTimeoutMs: 300 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const holding = pool.transaction(async (tx) => {
        await held;
        return tx.select<{ ok: number }>('SELECT 1 AS ok');
      });
      await new Promise((resolve) => setTimeout(resolve, 50));

      const refused = await pool.select('SELECT 2 AS ok').catch((err: unknown) => err);
      release();

      expect(refused).toBeInstanceOf(ConnectionAcquireTimeoutError);
      expect(isDatabaseUnavailable(refused)).toBe(true);
      expect(await holding).toEqual([{ ok: 1 }]);
      expect(await pool.select('SELECT 3 AS ok')).toEqual([{ ok: 3 }]);
    } finally {
      release();
      await pool.close();
      await database.drop();
    }
  });

  it('When an instance loads its modules and opens its direct connection, then Sequelize is never loaded; a direct Database has no sequelize', async () => {
    const database = await mysql.create();
    try {
      const script = `
        const { createRequire } = await import('node:module');
        await import('./shared/server/run-instance.ts');
        await import('./app-v1/app.ts');
        await import('./app-v2/app.ts');
        const { connectDatabase } = await import('./shared/db/connection.ts');
        const db = await connectDatabase(process.env.URL, { poolMax: 2, direct: true });
        await db.select('SELECT 1 AS ok');
        let sequelizeError = '';
        try { db.sequelize; } catch (err) { sequelizeError = err.message; }
        await db.close();
        const loaded = Object.keys(createRequire(import.meta.url)('node:module')._cache).filter((file) => /node_modules\\/(sequelize|umzug)\\//.test(file));
        console.log(JSON.stringify({ loaded, sequelizeError }));
      `;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, URL: database.url }, encoding: 'utf8' });
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as { loaded: string[]; sequelizeError: string };

      expect(result.loaded).toEqual([]);
      expect(result.sequelizeError).toMatch(/speaks to mysql2 directly/);
    } finally {
      await database.drop();
    }
  });
});
