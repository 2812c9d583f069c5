// A fresh database for every demo run: a SQLite file under RESULTS_DIR, or a MySQL/MariaDB database of its
// own (created at start, dropped at the end unless KEEP_DB=1), so runs never see each other's rows. On
// MySQL/MariaDB the run also gets its own least-privilege accounts (load/run/accounts.ts): the migrator, one
// account per version, and the CLI account, dropped with the database (KEEP_DB=1 keeps them too).
// DB=mysql-replica starts its own MariaDB primary and GTID replica (load/infra/private-mariadb.ts) on
// loopback ports under a temp dir, independent of any server already running, and stops both at the end.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startReplicaPair } from '../infra/private-mariadb.ts';
import { createRunAccounts } from './accounts.ts';
import type { RunAccounts } from './accounts.ts';
import type { ReplicaPair } from '../infra/private-mariadb.ts';
import { dropDatabase, ownDatabase } from '../infra/cleanup.ts';

/** Who connects: the migrations, each version's instances, the command-line tools and the demo's own reads. */
export type DemoRole = 'migrator' | 'v1' | 'v2' | 'cli';

export interface DemoDatabase {
  kind: 'sqlite' | 'mysql';
  /** The administrator's URL of the run's database (SQLite: the file). */
  url: string;
  /** DATABASE_URL for each role: its own account on DB=mysql and DB=mysql-replica (the primary); `url` on SQLite. */
  urls: Record<DemoRole, string>;
  /** After each migration step: v1's table rights on the tables that exist now (a no-op without accounts). */
  grantExisting(): Promise<void>;
  /** DB=mysql-replica: the replica's URL (DATABASE_REPLICA_URL) and the pair, to inject lag. */
  replicaUrl?: string;
  pair?: ReplicaPair;
  /** For the final screen. */
  describe: string;
  drop(): Promise<void>;
}

const sameUrl = (url: string): Record<DemoRole, string> => ({ migrator: url, v1: url, v2: url, cli: url });
/** Each role on its own account of the run, and v1's table rights granted as the tables appear. */
const onAccounts = (accounts: RunAccounts): Pick<DemoDatabase, 'urls' | 'grantExisting'> => ({
  urls: { migrator: accounts.url('migrator'), v1: accounts.url('app_v1'), v2: accounts.url('app_v2'), cli: accounts.url('cli') },
  grantExisting: async () => void (await accounts.grantExisting()),
});

/** What DB may name (make demo, make workshop's first two). */
export const DB_KINDS = ['sqlite', 'mysql', 'mysql-replica'] as const;
/** The line a bad DB gets, where it is checked before anything starts. */
export const dbKindMessage = (kind: string) => `DB must be ${DB_KINDS.slice(0, -1).join(', ')} or ${DB_KINDS.at(-1)} (got ${JSON.stringify(kind)})`;

export async function freshDatabase(kind: string, resultsDir: string, mysqlUrl: string): Promise<DemoDatabase> {
  if (kind === 'sqlite') {
    const dir = path.join(resultsDir, 'demo-data');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'demo.sqlite');
    const url = `sqlite:${file}`;
    return { kind: 'sqlite', url, urls: sameUrl(url), grantExisting: async () => {}, describe: `SQLite file ${path.relative(process.cwd(), file)}`, drop: async () => {} };
  }
  if (kind === 'mysql') {
    const hex = randomBytes(4).toString('hex');
    const name = `dwdr_demo_${hex}`;
    const admin = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 }).catch((err: Error) => {
      throw new Error(`cannot reach MySQL at MYSQL_URL=${mysqlUrl}: ${err.message}`);
    });
    // Owned by the run from before it exists: an interrupt (or, after a kill -9, the reaper) drops it.
    const release = ownDatabase(mysqlUrl, name);
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
    const accounts = await createRunAccounts(mysqlUrl, name, hex);
    const url = `${mysqlUrl.replace(/\/?$/, '/')}${name}`;
    return {
      kind: 'mysql',
      url,
      ...onAccounts(accounts),
      describe: `MySQL database ${name} at ${mysqlUrl}, accounts ${accounts.prefix}*`,
      async drop() {
        if (process.env.KEEP_DB !== '1') {
          await dropDatabase(mysqlUrl, name);
          await accounts.drop();
        }
        release();
      },
    };
  }
  if (kind === 'mysql-replica') {
    const pair = await startReplicaPair();
    const hex = randomBytes(4).toString('hex');
    const name = 'dwdr_demo';
    let accounts: RunAccounts;
    try {
      const admin = await pair.primary.connect();
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      // Binary logging is on (the replica reads it), so CREATE TRIGGER by an account without SUPER (the migrator
      // under SYNC=trigger, the cli account's `rollout advance` installing the live fence) needs this, as an
      // administrator sets it once on a production primary (docs/sync-strategies.md).
      await admin.query('SET GLOBAL log_bin_trust_function_creators = 1');
      await admin.end();
      // The same least-privilege accounts as DB=mysql, created on the primary (they replicate with the rest).
      accounts = await createRunAccounts(pair.primary.url, name, hex);
      // The CREATE DATABASE and the accounts replicate too: wait for them before anything connects to the replica.
      if (!(await pair.waitForGtid(await pair.primaryGtidPos(), 30))) throw new Error('the replica did not catch up with CREATE DATABASE and the accounts within 30 s');
    } catch (err) {
      await pair.stop();
      throw err;
    }
    // The pair is the demo's own throwaway server: its administrator reads the replica (lag, GTID waits).
    const url = `${pair.primary.url}${name}`;
    return {
      kind: 'mysql',
      url,
      ...onAccounts(accounts),
      replicaUrl: `${pair.replica.url}${name}`,
      pair,
      describe: `private MariaDB primary :${pair.primary.port} with GTID replica :${pair.replica.port}, accounts ${accounts.prefix}*`,
      async drop() {
        // The accounts go with the server, but their ownership is released the same way as on DB=mysql.
        await accounts.drop().catch(() => {});
        await pair.stop();
      },
    };
  }
  throw new Error(dbKindMessage(kind));
}
