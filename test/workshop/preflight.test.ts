// make preflight: says which workshop paths this machine can run, installs nothing, and fails only when the SQLite
// path cannot run (MariaDB and nginx are optional).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPreflight, preflight } from '../../load/workshop/preflight.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLOSED_MYSQL = 'mysql://root@127.0.0.1:1/';

function runPreflight(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawnTsx('load/workshop/preflight-cli.ts', [], { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('make preflight', () => {
  it('When MariaDB is unreachable, then it still exits 0, marks MariaDB absent and names what it would enable', async () => {
    const { code, output } = await runPreflight({ MYSQL_URL: CLOSED_MYSQL });
    expect(output).toMatch(/^ok\s+Node\s+v\d+/m);
    expect(output).toMatch(/^ok\s+SQLite/m);
    expect(output).toMatch(/^absent\s+MariaDB\/MySQL\s+not reachable at mysql:\/\/root@127\.0\.0\.1:1\//m);
    expect(output).toMatch(/enables: DB=mysql for make demo and make workshop, make chaos, make bench/);
    expect(output).toMatch(/preflight: ready for the SQLite path/);
    expect(code).toBe(0);
  });

  it('When nginx is not installed, then the Node proxy is named as the stand-in and the SQLite path is ready', async () => {
    const result = await preflight({ nginxPath: null, mysqlUrl: CLOSED_MYSQL, ports: [] });
    expect(result.checks.find((c) => c.name === 'nginx')).toMatchObject({ status: 'missing', enables: expect.stringMatching(/the Node proxy stands in/) });
    expect(result.sqlitePathRuns).toBe(true);
    expect(formatPreflight(result)).toMatch(/absent or busy: MariaDB\/MySQL, nginx/);
  });

  it('When SQLite cannot write its file, then the SQLite path is FAILED and the run fails', async () => {
    const missing = path.join(os.tmpdir(), `preflight-missing-${process.pid}-${Date.now()}`, 'nested');
    const result = await preflight({ tmpDir: missing, nginxPath: null, mysqlUrl: CLOSED_MYSQL, ports: [] });
    expect(result.checks.find((c) => c.name === 'SQLite')?.status).toBe('failed');
    expect(result.sqlitePathRuns).toBe(false);
    expect(formatPreflight(result)).toMatch(/^FAILED\s+SQLite/m);
    expect(formatPreflight(result)).toMatch(/the SQLite path cannot run on this machine/);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('When Node is older than 20, then the run fails naming the version needed', async () => {
    const result = await preflight({ nodeVersion: 'v18.19.0', nginxPath: null, mysqlUrl: CLOSED_MYSQL, ports: [] });
    expect(result.checks[0]).toMatchObject({ name: 'Node', status: 'failed', detail: expect.stringMatching(/v18\.19\.0: 20 or newer is needed/) });
    expect(result.sqlitePathRuns).toBe(false);
  });
});
