// Least-privilege accounts (deploy/database/accounts.sh) on the real MariaDB: created by an administrator on an
// empty database, the migrator runs every migration (contract and its way back too), then v1's column rights are
// granted. v1 works on its account and cannot touch profile_data; no app account (v1, v2, CLI, replica reader) can
// change the schema; a planted table-wide grant to v1 is caught by the same probe. Accounts get a unique prefix
// and are dropped after, with the database.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { createMigrator, migrateUp } from '../../shared/migrations/runner.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';
import { dropSyncTriggers, installSyncTriggers, syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { MYSQL_URL, mysqlTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import { runScript } from '../support/scripts.ts';
import { attempt, DDL, DENIED_ALL, profileDataProbe } from './account-probes.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../deploy/database/accounts.sh');
const ACCOUNTS = ['migrator', 'app_v1', 'app_v2', 'cli', 'replica_reader'] as const;
type Account = (typeof ACCOUNTS)[number];
const run = promisify(execFile);
const target = await mysqlTarget();

interface AccountSet {
  prefix: string;
  passwords: Record<Account, string>;
  url(account: Account): string;
  drop(): Promise<void>;
}

/** What accounts.sh prints for `part`, run by root (the administrator), with a unique prefix. */
async function createAccounts(database: TestDatabase, part: 'accounts' | 'grants', set: AccountSet, edit: (sql: string) => string = (sql) => sql): Promise<void> {
  const name = new URL(database.url).pathname.slice(1);
  const env = {
    PATH: process.env.PATH ?? '',
    APP_DATABASE: name,
    ACCOUNT_PREFIX: set.prefix,
    MIGRATOR_PASSWORD: set.passwords.migrator,
    APP_V1_PASSWORD: set.passwords.app_v1,
    APP_V2_PASSWORD: set.passwords.app_v2,
    CLI_PASSWORD: set.passwords.cli,
    REPLICA_READER_PASSWORD: set.passwords.replica_reader,
  };
  const { stdout } = await run('sh', [SCRIPT, part], { env });
  const admin = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await admin.query(edit(stdout));
  } finally {
    await admin.end();
  }
}

function accountSet(database: TestDatabase): AccountSet {
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  const passwords = Object.fromEntries(ACCOUNTS.map((a) => [a, randomBytes(12).toString('hex')])) as Record<Account, string>;
  return {
    prefix,
    passwords,
    url(account) {
      const url = new URL(database.url);
      url.username = `${prefix}${account}`;
      url.password = passwords[account];
      return url.toString();
    },
    async drop() {
      const admin = await mysql.createConnection({ uri: MYSQL_URL });
      try {
        for (const account of ACCOUNTS) await admin.query(`DROP USER IF EXISTS '${prefix}${account}'@'%'`);
      } finally {
        await admin.end();
      }
    },
  };
}


describe.skipIf(target.skip !== null)(target.skip ? `least-privilege accounts (SKIPPED: ${target.skip})` : 'least-privilege accounts on MySQL/MariaDB', () => {
  let database: TestDatabase;
  let accounts: AccountSet;
  const open: Database[] = [];
  const connect = async (account: Account) => {
    const db = await connectDatabase(accounts.url(account), { poolMax: 2 });
    open.push(db);
    return db;
  };

  beforeAll(async () => {
    database = await target.create({ migrateTo: null });
    accounts = accountSet(database);
    await createAccounts(database, 'accounts', accounts);
    await migrateUp(await connect('migrator'));
    await createAccounts(database, 'grants', accounts);
  });
  afterAll(async () => {
    await Promise.all(open.map((db) => db.close()));
    await accounts?.drop();
    await database?.drop();
  });

  it('When v1 runs on its own account, then it creates, reads and updates users, and the old columns hold what it wrote', async () => {
    const v1 = await inProcessApp('v1', await connect('app_v1'));
    try {
      const name = unique('v1-account');
      const created = await request(v1.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201);
      await request(v1.app).put(`/users/${created.body.id}`).send({ name: `${name}-2`, email: `${name}@example.test` }).expect(200);
      const read = await request(v1.app).get(`/users/${created.body.id}`).expect(200);

      expect(read.body.name).toBe(`${name}-2`);
      expect(await storedUser(database.db, created.body.id)).toEqual({ id: created.body.id, name: `${name}-2`, email: `${name}@example.test`, profileRaw: null });
    } finally {
      await v1.close();
    }
  });

  it('When v1\'s account reads or writes profile_data, then the server refuses every statement', async () => {
    expect(await profileDataProbe(await connect('app_v1'))).toEqual(DENIED_ALL);
  });

  it('When a v1 account is planted with table-wide rights on users, then the same probe finds profile_data open', async () => {
    const planted = accountSet(database);
    try {
      await createAccounts(database, 'accounts', planted);
      await createAccounts(database, 'grants', planted, (sql) => sql.replace(/GRANT SELECT \([^)]*\), /, 'GRANT SELECT, '));
      const db = await connectDatabase(planted.url('app_v1'), { poolMax: 1 });
      try {
        expect((await profileDataProbe(db)).select).toBe('allowed');
      } finally {
        await db.close();
      }
    } finally {
      await planted.drop();
    }
  });

  it('When any app or tool account runs DDL, then the server refuses it; each keeps the DML it needs', async () => {
    for (const account of ['app_v1', 'app_v2', 'cli', 'replica_reader'] as const) {
      const db = await connect(account);
      for (const sql of DDL) expect(`${account}: ${sql}: ${await attempt(db, sql)}`).toBe(`${account}: ${sql}: denied`);
    }
    expect(await attempt(await connect('app_v2'), 'UPDATE users SET profile_data = NULL WHERE id = 0')).toBe('allowed');
    expect(await attempt(await connect('replica_reader'), 'SELECT profile_data FROM users LIMIT 1')).toBe('allowed');
    expect(await attempt(await connect('replica_reader'), 'UPDATE flags SET value = value WHERE 1 = 0')).toBe('denied');
  });

  it('When the cli account installs the rollout\'s trigger fence, then it may, and v1 writing on its own account (never profile_data) reaches profile_data through it', async () => {
    const cli = await connect('cli');
    await installSyncTriggers(cli, ['up']);
    const installed = await syncTriggerPresence(database.db);
    const v1 = await inProcessApp('v1', await connect('app_v1'));
    try {
      const name = unique('v1-fenced');
      const created = await request(v1.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201);

      expect(installed).toEqual({ up: 'installed', down: 'absent' });
      expect(storedProfile((await storedUser(database.db, created.body.id))?.profileRaw)).toEqual({ name, email: `${name}@example.test` });
    } finally {
      await v1.close();
      await dropSyncTriggers(cli, ['up']);
    }
    expect(await syncTriggerPresence(database.db)).toEqual({ up: 'absent', down: 'absent' });
  });

  it('When the command-line tools run on the cli account, then flags and verify work and db:migrate is refused for lack of rights', async () => {
    const env = { DATABASE_URL: accounts.url('cli') };
    const deadline = { timeoutMs: 40_000 };
    const flags = await runScript('cli/flags.ts', ['set', 'dual-read', 'true'], env, deadline);
    expect(flags.code, flags.stderr).toBe(0);
    const [row] = await database.db.select<{ value: string }>("SELECT value FROM flags WHERE name = 'dual-read'");
    expect(row?.value).toBe('true');
    // verify exits 1 here (v1's rows have no profile_data yet: drift), but it ran to the end and recorded it.
    const verify = await runScript('cli/verify.ts', [], env, deadline);
    expect(`${verify.stdout}${verify.stderr}`).not.toMatch(/denied/i);
    const [finished] = await database.db.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM verify_runs WHERE finished_at IS NOT NULL');
    expect(Number(finished?.n)).toBe(1);

    const migrate = await runScript('cli/db-migrate.ts', ['down'], env, deadline);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toMatch(/denied/i);
  }, 150_000);

  it('When the migrator runs the contract and its way back, then both succeed (DDL and the reverse backfill)', async () => {
    const migrator = await connect('migrator');
    await createMigrator(migrator).up({ migrations: ['099-contract'] });
    expect(await tableColumns(database.db, 'users')).not.toContain('name');
    await createMigrator(migrator).down({ migrations: ['099-contract'] });
    expect(await tableColumns(database.db, 'users')).toEqual(expect.arrayContaining(['name', 'email', 'profile_data']));
  });
});
