// `make preflight` (npm run preflight): before a workshop, on each attendee's laptop, one minute at most after
// `npm ci`, installing nothing. It says which of the workshop's paths this machine can run: the SQLite path
// (`make demo`, `make workshop`: Node and the sqlite3 module are all it needs) always has to; MariaDB/MySQL
// (`DB=mysql`, `make chaos`, `make bench`) and nginx (the balancer; without it the Node proxy stands in) are
// optional. Only a machine that cannot run the SQLite path fails it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { connectDatabase } from '../../shared/db/connection.ts';
import { findNginx } from '../infra/balancer/nginx.ts';

export interface Check {
  name: string;
  /** ok: works; missing: an optional part is absent (the paths it enables are named); failed: the SQLite path cannot run. */
  status: 'ok' | 'missing' | 'failed';
  detail: string;
  /** What it enables (optional parts) or what it is needed for. */
  enables: string;
}

export interface PreflightOptions {
  /** Default process.version. */
  nodeVersion?: string;
  /** Default MYSQL_URL or mysql://root@127.0.0.1:3306/. */
  mysqlUrl?: string;
  /** Default findNginx(); null: not installed. */
  nginxPath?: string | null;
  /** Ports the workshop listens on by default: the dashboard (8070). */
  ports?: number[];
  /** Where the SQLite test file goes; default os.tmpdir(). */
  tmpDir?: string;
}

export const MIN_NODE_MAJOR = 20;

const SQLITE_PATH = 'make demo, make workshop (SQLite: the default path)';

function nodeCheck(version: string): Check {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  return major >= MIN_NODE_MAJOR
    ? { name: 'Node', status: 'ok', detail: `${version} (${MIN_NODE_MAJOR} or newer needed)`, enables: 'everything' }
    : { name: 'Node', status: 'failed', detail: `${version}: ${MIN_NODE_MAJOR} or newer is needed (nvm install ${MIN_NODE_MAJOR})`, enables: 'everything' };
}

async function sqliteCheck(tmpDir: string): Promise<Check> {
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(tmpDir, 'preflight-'));
    const db = await connectDatabase(`sqlite:${path.join(dir, 'preflight.sqlite')}`);
    try {
      await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)');
      await db.insert('INSERT INTO t (v) VALUES ($1), ($2)', ['a', 'b']);
      const [row] = await db.select<{ n: number }>('SELECT COUNT(*) AS n FROM t');
      if (Number(row?.n) !== 2) throw new Error(`a two-row insert read back ${row?.n} rows`);
    } finally {
      await db.close();
    }
    return { name: 'SQLite', status: 'ok', detail: 'the sqlite3 module opens, writes and reads a database file', enables: SQLITE_PATH };
  } catch (err) {
    return { name: 'SQLite', status: 'failed', detail: `${(err as Error).message} (after npm ci? the sqlite3 module builds or downloads a native binary then)`, enables: SQLITE_PATH };
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function mysqlCheck(url: string): Promise<Check> {
  const enables = 'DB=mysql for make demo and make workshop, make chaos, make bench (exercise 4)';
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
    try {
      const [rows] = await connection.query('SELECT VERSION() AS version');
      return { name: 'MariaDB/MySQL', status: 'ok', detail: `${(rows as { version: string }[])[0]?.version} at ${url}`, enables };
    } finally {
      await connection.end();
    }
  } catch (err) {
    return { name: 'MariaDB/MySQL', status: 'missing', detail: `not reachable at ${url} (${(err as Error).message}); optional: set MYSQL_URL if it runs elsewhere`, enables };
  }
}

function nginxCheck(nginxPath: string | null): Check {
  const enables = 'the nginx balancer (make demo, make workshop, make chaos); without it the Node proxy stands in';
  return nginxPath
    ? { name: 'nginx', status: 'ok', detail: nginxPath, enables }
    : { name: 'nginx', status: 'missing', detail: 'not on PATH nor at /usr/sbin/nginx; optional', enables };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function portsCheck(ports: number[]): Promise<Check> {
  const busy = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  const enables = 'the dashboard at a fixed address (DASHBOARD_PORT)';
  // A busy port is no failure: the dashboard falls back to any free port and prints it.
  if (busy.length > 0) return { name: 'ports', status: 'missing', detail: `busy on 127.0.0.1: ${busy.join(', ')} (the dashboard then takes any free port and prints it)`, enables };
  const anyPort = await portFree(0);
  return anyPort
    ? { name: 'ports', status: 'ok', detail: `127.0.0.1: ${ports.join(', ')} free, and loopback ports can be opened`, enables }
    : { name: 'ports', status: 'failed', detail: 'no loopback port could be opened on 127.0.0.1', enables: SQLITE_PATH };
}

export async function preflight(options: PreflightOptions = {}): Promise<{ checks: Check[]; sqlitePathRuns: boolean }> {
  const checks = [
    nodeCheck(options.nodeVersion ?? process.version),
    await sqliteCheck(options.tmpDir ?? os.tmpdir()),
    await portsCheck(options.ports ?? [8070]),
    // MYSQL_URL may be set but empty (make exports every variable it names).
    await mysqlCheck(options.mysqlUrl ?? (process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/')),
    nginxCheck(options.nginxPath === undefined ? findNginx() : options.nginxPath),
  ];
  return { checks, sqlitePathRuns: checks.every((check) => check.status !== 'failed') };
}

const MARK = { ok: 'ok     ', missing: 'absent ', failed: 'FAILED ' } as const;

export function formatPreflight({ checks, sqlitePathRuns }: Awaited<ReturnType<typeof preflight>>): string {
  const lines = checks.map((c) => `${MARK[c.status]} ${c.name.padEnd(14)} ${c.detail}\n        ${''.padEnd(14)} enables: ${c.enables}`);
  const optionalMissing = checks.filter((c) => c.status === 'missing').map((c) => c.name);
  lines.push('');
  if (!sqlitePathRuns) lines.push('preflight: the SQLite path cannot run on this machine: fix the FAILED lines above (the workshop needs it)');
  else if (optionalMissing.length > 0) lines.push(`preflight: ready for the SQLite path (make workshop, make demo); absent or busy: ${optionalMissing.join(', ')} (optional: the lines above say what each would enable)`);
  else lines.push('preflight: ready for every path (SQLite, DB=mysql, nginx)');
  return lines.join('\n');
}
