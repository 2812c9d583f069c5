// The demo on MySQL/MariaDB (make demo DB=mysql) runs on per-run least-privilege accounts created by
// deploy/database/accounts.sh (load/run/accounts.ts, load/run/database.ts). Taken the demo's own way: its fresh
// database, the migrator's migrations step by step with v1's grants after each, then each role's URL probed on
// the real server. v1 serves on its account once the expand ran and never reaches profile_data; no app or
// tool account changes the schema; the run's accounts are gone once the demo drops its database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../load/run/database.ts';
import type { DemoDatabase, DemoRole } from '../../load/run/database.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { MYSQL_URL, mysqlTarget, unique } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import { attempt, DDL, DENIED_ALL, profileDataProbe } from './account-probes.ts';

const target = await mysqlTarget();

/** The accounts on the server whose name starts with `prefix` (dwdr_<hex>_). */
export async function accountsNamed(prefix: string): Promise<string[]> {
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await admin.query('SELECT User AS user FROM mysql.user WHERE User LIKE ?', [`${prefix.replace(/_/g, '\\_')}%`]);
    return (rows as { user: string }[]).map((r) => r.user).sort();
  } finally {
    await admin.end();
  }
}

describe.skipIf(target.skip !== null)(target.skip ? `the demo's accounts (SKIPPED: ${target.skip})` : 'the demo\'s per-run accounts on MySQL/MariaDB', () => {
  let resultsDir: string;
  let database: DemoDatabase;
  let prefix: string;
  const open: Database[] = [];
  const connect = async (role: DemoRole) => {
    const db = await connectDatabase(database.urls[role], { poolMax: 2 });
    open.push(db);
    return db;
  };
  let v1Wrote: { status: number; name: string };

  beforeAll(async () => {
    resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-demo-accounts-'));
    database = await freshDatabase('mysql', resultsDir, MYSQL_URL);
    prefix = new URL(database.urls.v1).username.replace(/app_v1$/, '');
    // Steps 0 and 1 of the demo: the base schema, then the expand, each followed by v1's grants.
    await migrateUp(await connect('migrator'), { to: '001-base' });
    await database.grantExisting();
    await migrateUp(await connect('migrator'), { to: '006-instance-strategy' });
    await database.grantExisting();
    // v1, restarted on its own account in step 1, serves.
    const v1 = await inProcessApp('v1', await connect('v1'));
    try {
      const name = unique('v1-account');
      const created = await request(v1.app).post('/users').send({ name, email: `${name}@example.test` });
      const [row] = await (await connect('cli')).select<{ name: string }>('SELECT name FROM users WHERE id = $1', [created.body.id]);
      v1Wrote = { status: created.status, name: row?.name ?? '' };
    } finally {
      await v1.close();
    }
    // The rest of the rollout's migrations (the relax step; the contract is tested with accounts.sh's own test).
    await migrateUp(await connect('migrator'), { to: '007-relax-old-columns' });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.map((db) => db.close()));
    await database?.drop();
    fs.rmSync(resultsDir, { recursive: true, force: true });
  });

  it('When the demo creates its database, then each role connects as its own run-unique account, never the administrator', async () => {
    const users = Object.fromEntries(Object.entries(database.urls).map(([role, url]) => [role, new URL(url).username]));

    expect(users).toEqual({ migrator: `${prefix}migrator`, v1: `${prefix}app_v1`, v2: `${prefix}app_v2`, cli: `${prefix}cli` });
    expect(prefix).toMatch(/^dwdr_[0-9a-f]{8}_$/);
    expect(await accountsNamed(prefix)).toEqual([`${prefix}app_v1`, `${prefix}app_v2`, `${prefix}cli`, `${prefix}migrator`, `${prefix}replica_reader`]);
  });

  it('When v1 runs on the demo\'s v1 account after the expand, then it creates a user and the row holds it', () => {
    expect(v1Wrote).toEqual({ status: 201, name: expect.stringMatching(/^v1-account/) as unknown as string });
  });

  it('When v1\'s account is used on the base schema (before the expand), then reading the flags is refused as denied, not missing: why the demo moves the v1s onto it only in step 1', async () => {
    const early = await freshDatabase('mysql', resultsDir, MYSQL_URL);
    const db = await connectDatabase(early.urls.migrator, { poolMax: 1 });
    let v1: Database | undefined;
    try {
      await migrateUp(db, { to: '001-base' });
      await early.grantExisting();
      v1 = await connectDatabase(early.urls.v1, { poolMax: 1 });
      expect(await attempt(v1, 'SELECT name FROM users LIMIT 1')).toBe('allowed');
      expect(await attempt(v1, 'SELECT version FROM flag_set')).toBe('denied');
    } finally {
      await v1?.close();
      await db.close();
      await early.drop();
    }
  });

  it('When the demo\'s v1 account reads or writes profile_data after the expand, then the server refuses every statement', async () => {
    expect(await profileDataProbe(await connect('v1'))).toEqual(DENIED_ALL);
  });

  it('When the demo\'s app and tool accounts run DDL, then the server refuses it, and the migrator\'s is accepted', async () => {
    for (const role of ['v1', 'v2', 'cli'] as const) {
      const db = await connect(role);
      for (const sql of DDL) expect(`${role}: ${sql}: ${await attempt(db, sql)}`).toBe(`${role}: ${sql}: denied`);
    }
    const migrator = await connect('migrator');
    expect(await attempt(migrator, 'CREATE TABLE planted_by_migrator (id INT PRIMARY KEY)')).toBe('allowed');
    expect(await attempt(migrator, 'DROP TABLE planted_by_migrator')).toBe('allowed');
  });

  it('When the demo drops its database, then its accounts are dropped with it', async () => {
    const drop = await freshDatabase('mysql', resultsDir, MYSQL_URL);
    const dropPrefix = new URL(drop.urls.cli).username.replace(/cli$/, '');
    expect(await accountsNamed(dropPrefix)).toHaveLength(5);

    await drop.drop();

    expect(await accountsNamed(dropPrefix)).toEqual([]);
  });
});
