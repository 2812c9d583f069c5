// A fresh database for every demo run: a SQLite file under RESULTS_DIR, or a MySQL/MariaDB database of its
// own (created at start, dropped at the end unless KEEP_DB=1), so runs never see each other's rows.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';

export interface DemoDatabase {
  kind: 'sqlite' | 'mysql';
  url: string;
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
  throw new Error(`DB must be sqlite or mysql (got ${JSON.stringify(kind)})`);
}
