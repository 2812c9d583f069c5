// Test databases: every test file gets its own (a temp SQLite file, or a fresh MySQL/MariaDB database that is
// dropped afterwards), so files run in parallel and data never leaks between them.
// MySQL is at MYSQL_URL (default mysql://root@127.0.0.1:3306/). With REQUIRE_MYSQL=1 (set by .ci/run) a
// missing server fails the run; without it, the MySQL variants are skipped, visibly, with the reason.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';

export const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/';

export interface TestDatabase {
  /** DATABASE_URL for app processes and CLIs. */
  url: string;
  db: Database;
  drop(): Promise<void>;
}

export interface DatabaseTarget {
  name: 'sqlite' | 'mysql';
  /** Why this target is skipped, or null when it runs. */
  skip: string | null;
  create(options?: { migrateTo?: string | null }): Promise<TestDatabase>;
}

async function mysqlReachable(): Promise<string | null> {
  try {
    const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2000 });
    await connection.end();
    return null;
  } catch (err) {
    const reason = `MySQL/MariaDB not reachable at ${MYSQL_URL}: ${(err as Error).message}`;
    if (process.env.REQUIRE_MYSQL === '1') throw new Error(`${reason} (REQUIRE_MYSQL=1)`);
    return reason;
  }
}

const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

export function sqliteTarget(): DatabaseTarget {
  return {
    name: 'sqlite',
    skip: null,
    async create({ migrateTo } = {}) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-test-'));
      const url = `sqlite:${path.join(dir, 'test.sqlite')}`;
      const db = await connectDatabase(url);
      if (migrateTo !== null) await migrateUp(db, { to: migrateTo });
      return {
        url,
        db,
        async drop() {
          await db.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export async function mysqlTarget(): Promise<DatabaseTarget> {
  const skip = await mysqlReachable();
  return {
    name: 'mysql',
    skip,
    async create({ migrateTo } = {}) {
      const name = uniqueName('dwdr_test');
      const admin = await mysql.createConnection({ uri: MYSQL_URL });
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      await admin.end();
      const url = `${MYSQL_URL.replace(/\/?$/, '/')}${name}`;
      const db = await connectDatabase(url, { poolMax: 10 });
      if (migrateTo !== null) await migrateUp(db, { to: migrateTo });
      return {
        url,
        db,
        async drop() {
          await db.close();
          const conn = await mysql.createConnection({ uri: MYSQL_URL });
          await conn.query(`DROP DATABASE IF EXISTS ${name}`);
          await conn.end();
        },
      };
    },
  };
}

/** Both targets; use with describe.each and describe.skipIf(target.skip). */
export async function databaseTargets(): Promise<DatabaseTarget[]> {
  return [sqliteTarget(), await mysqlTarget()];
}

/** A value no other test (or run) uses: tests never share data. */
export function unique(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

/** A user's fields no other test writes: a unique name, and an email made from it. */
export function uniqueFields(label: string): { name: string; email: string } {
  const name = unique(label);
  return { name, email: `${name}@example.test` };
}
