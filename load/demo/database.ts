// A fresh database for every demo run: a SQLite file under RESULTS_DIR, or a MySQL/MariaDB database of its
// own (created at start, dropped at the end unless KEEP_DB=1), so runs never see each other's rows.
// DB=mysql-replica starts its own MariaDB primary and GTID replica (load/harness/private-mariadb.ts) on
// loopback ports under a temp dir, independent of any server already running, and stops both at the end.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startReplicaPair } from '../harness/private-mariadb.ts';
import type { ReplicaPair } from '../harness/private-mariadb.ts';

export interface DemoDatabase {
  kind: 'sqlite' | 'mysql';
  url: string;
  /** DB=mysql-replica: the replica's URL (DATABASE_REPLICA_URL) and the pair, to inject lag. */
  replicaUrl?: string;
  pair?: ReplicaPair;
  /** For the final screen. */
  describe: string;
  drop(): Promise<void>;
}

export async function freshDatabase(kind: string, resultsDir: string, mysqlUrl: string): Promise<DemoDatabase> {
  if (kind === 'sqlite') {
    const dir = path.join(resultsDir, 'demo-data');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'demo.sqlite');
    return { kind: 'sqlite', url: `sqlite:${file}`, describe: `SQLite file ${path.relative(process.cwd(), file)}`, drop: async () => {} };
  }
  if (kind === 'mysql') {
    const name = `dwdr_demo_${randomBytes(4).toString('hex')}`;
    const admin = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 }).catch((err: Error) => {
      throw new Error(`cannot reach MySQL at MYSQL_URL=${mysqlUrl}: ${err.message}`);
    });
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
    const url = `${mysqlUrl.replace(/\/?$/, '/')}${name}`;
    return {
      kind: 'mysql',
      url,
      describe: `MySQL database ${name} at ${mysqlUrl}`,
      async drop() {
        if (process.env.KEEP_DB === '1') return;
        const conn = await mysql.createConnection({ uri: mysqlUrl });
        await conn.query(`DROP DATABASE IF EXISTS ${name}`);
        await conn.end();
      },
    };
  }
  if (kind === 'mysql-replica') {
    const pair = await startReplicaPair();
    const name = 'dwdr_demo';
    try {
      const admin = await pair.primary.connect();
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      await admin.end();
      // The CREATE DATABASE replicates too: wait for it before anything connects to the replica.
      if (!(await pair.waitForGtid(await pair.primaryGtidPos(), 30))) throw new Error('the replica did not catch up with CREATE DATABASE within 30 s');
    } catch (err) {
      await pair.stop();
      throw err;
    }
    return {
      kind: 'mysql',
      url: `${pair.primary.url}${name}`,
      replicaUrl: `${pair.replica.url}${name}`,
      pair,
      describe: `private MariaDB primary :${pair.primary.port} with GTID replica :${pair.replica.port}`,
      drop: () => pair.stop(),
    };
  }
  throw new Error(`DB must be sqlite, mysql or mysql-replica (got ${JSON.stringify(kind)})`);
}
