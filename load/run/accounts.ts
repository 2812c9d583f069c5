// The demo on MySQL/MariaDB runs on the least-privilege accounts a team runs in production, created for each run
// by the one definition of their rights, deploy/database/accounts.sh (run here as the administrator, MYSQL_URL):
// the migrator applies every migration and the contract, each v1 instance runs as app_v1 (never profile_data),
// each v2 as app_v2, and every command-line tool (flags, backfill, verify, rollout) and the demo's own reads as
// cli. The names are unique to the run (dwdr_<hex>_<account>) and the accounts are owned like the database:
// dropped at the end, on an interrupt, or by the reaper after a kill -9 (load/infra/cleanup.ts).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { dropAccounts, ownAccounts } from '../infra/cleanup.ts';
import { mapping } from '../../shared/schema-mapping.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../deploy/database/accounts.sh');
const run = promisify(execFile);

/** Every account accounts.sh creates, with the variable its password comes from. */
const ACCOUNTS = { migrator: 'MIGRATOR_PASSWORD', app_v1: 'APP_V1_PASSWORD', app_v2: 'APP_V2_PASSWORD', cli: 'CLI_PASSWORD', replica_reader: 'REPLICA_READER_PASSWORD' } as const;
export type Account = keyof typeof ACCOUNTS;

export interface RunAccounts {
  /** dwdr_<hex>_: every account name starts with it. */
  prefix: string;
  /** DATABASE_URL for `account` on the run's database. */
  url(account: Account): string;
  /**
   * v1's table and column rights (accounts.sh grants), on the tables that exist so far: MySQL and MariaDB grant
   * table rights only on existing tables, and the demo starts v1 on the base schema, before the expand creates the
   * rollout's tables. Called after each migration step; returns the grants still waiting for their table.
   */
  grantExisting(): Promise<number>;
  drop(): Promise<void>;
}

/** The SQL accounts.sh prints for `part` (accounts | grants) with this run's names and passwords. */
async function accountsSql(part: 'accounts' | 'grants', database: string, prefix: string, passwords: Record<Account, string>): Promise<string[]> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    APP_DATABASE: database,
    ACCOUNT_PREFIX: prefix,
    // The migrated table as the active mapping describes it: v1's rights are on its old columns.
    APP_TABLE: mapping.table,
    APP_KEY: mapping.keyColumn,
    APP_OLD_COLUMNS: mapping.oldColumnNames.join(','),
    APP_KEY_BY_APP: mapping.keyType === 'integer' ? '0' : '1',
  };
  for (const [account, variable] of Object.entries(ACCOUNTS)) env[variable] = passwords[account as Account];
  const { stdout } = await run('sh', [SCRIPT, part], { env });
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

/**
 * Creates the run's accounts for `database` on the server at `serverUrl` (an administrator's URL, no database):
 * the five accounts and their database-wide rights; v1's table rights come with grantExisting().
 */
export async function createRunAccounts(serverUrl: string, database: string, hex: string): Promise<RunAccounts> {
  const prefix = `dwdr_${hex}_`;
  const passwords = Object.fromEntries(Object.keys(ACCOUNTS).map((account) => [account, randomBytes(12).toString('hex')])) as Record<Account, string>;
  const names = Object.keys(ACCOUNTS).map((account) => `${prefix}${account}`);
  const admin = () => mysql.createConnection({ uri: serverUrl, connectTimeout: 3000 });
  // Owned before the first CREATE USER: an interrupt right after it still drops them.
  const release = ownAccounts(serverUrl, `${prefix}*`, names);
  const statements = await accountsSql('accounts', database, prefix, passwords);
  const connection = await admin();
  try {
    for (const statement of statements) await connection.query(statement);
  } finally {
    await connection.end();
  }
  let pending: string[] | null = null;
  return {
    prefix,
    url(account) {
      const url = new URL(`${serverUrl.replace(/\/?$/, '/')}${database}`);
      url.username = `${prefix}${account}`;
      url.password = passwords[account];
      return url.toString();
    },
    async grantExisting() {
      pending ??= await accountsSql('grants', database, prefix, passwords);
      const still: string[] = [];
      const connection = await admin();
      try {
        for (const statement of pending) {
          try {
            await connection.query(statement);
          } catch (err) {
            if ((err as { code?: string }).code !== 'ER_NO_SUCH_TABLE') throw err;
            still.push(statement);
          }
        }
      } finally {
        await connection.end();
      }
      pending = still;
      return still.length;
    },
    async drop() {
      await dropAccounts(serverUrl, names);
      release();
    },
  };
}
