// make bench, smoke-sized: every part runs for a fraction of a second on MySQL/MariaDB, and bench.json must come
// out with the figures the README quotes, sane numbers, the machine, and no database left behind. The real
// numbers come from `make bench` on a quiet machine; this only proves the bench still measures something.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { MYSQL_URL, mysqlTarget } from '../support/databases.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const target = await mysqlTarget();

function runBench(env: Record<string, string>): Promise<{ code: number | null; output: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'load', 'bench', 'index.ts')], {
      cwd: ROOT,
      env: { ...process.env, MYSQL_URL, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output, pid: child.pid! }));
  });
}

const positiveRatio = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0.01 && value < 100;

describe.skipIf(target.skip)('make bench on MySQL/MariaDB (smoke-sized)', () => {
  it('When every part runs for a moment, then bench.json holds every headline figure with sane numbers, the machine, and the table is printed', { timeout: 240_000 }, async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
    // The demo's wall time is read from its latest summary, as make bench reads it.
    fs.writeFileSync(path.join(resultsDir, 'demo-summary.json'), JSON.stringify({ scenario: 'rollout', database: 'mysql', passed: true, wallSeconds: 123 }));
    try {
      const { code, output, pid } = await runBench({
        RESULTS_DIR: resultsDir,
        BENCH_SECONDS: '0.5',
        BENCH_REPEAT: '1',
        BENCH_CONNECTIONS: '4',
        DB_POOL_MAX: '4',
        BENCH_BACKFILL_ROWS: '3000',
        BENCH_LIVE_ROWS: '3000',
        BENCH_LIVE_RATE: '50',
        BENCH_QUIET_SECONDS: '0',
        BENCH_PARTS: '',
      });
      const file = path.join(resultsDir, 'bench.json');
      expect(fs.existsSync(file), output).toBe(true);
      const bench = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(bench.failure, output).toBeNull();
      // Exit 1 means a goal was missed (likely at this size on a busy machine), never that nothing was measured.
      expect(code, output).toBe(bench.goalsMissed.length > 0 ? 1 : 0);

      for (const key of ['dualWriteVsV1', 'dualWriteP99VsV1', 'dualReadVsV1', 'nginxVsDirect', 'backfillVsLimit', 'p99DuringBackfillVsBaseline']) {
        expect(positiveRatio(bench[key]), `${key} = ${bench[key]}`).toBe(true);
      }
      expect(bench.rssMb).toBeGreaterThan(20);
      expect(bench.rssMb).toBeLessThan(4000);
      expect(bench.machine.cores).toBeGreaterThanOrEqual(1);
      expect(bench.machine.node).toBe(process.version);
      expect(bench.machine.database).toMatch(/\d+\.\d+/);
      expect(bench.settings).toMatchObject({ seconds: 0.5, repeat: 1, connections: 4, poolMax: 4 });

      // Every figure was measured in the same run: one paired ratio per round, and a verdict wherever there is a goal.
      for (const figure of bench.figures) {
        if (figure.goal !== '-') expect(typeof figure.pass, figure.key).toBe('boolean');
        if (figure.detail?.perRound) expect(figure.detail.perRound, figure.key).toHaveLength(1);
      }
      const v1Writes = bench.raw.write.v1[0];
      expect(v1Writes.requests).toBeGreaterThan(0);
      expect(v1Writes.p99).toBeGreaterThanOrEqual(v1Writes.p50);
      expect(bench.figures.find((f: { key: string }) => f.key === 'demoWallSeconds').candidate).toMatch(/^123 s/);
      expect(output).toMatch(/\| figure +\| baseline +\| candidate +\| ratio +\| goal +\| result +\|/);

      // Its own databases are gone.
      const admin = await mysql.createConnection({ uri: MYSQL_URL });
      try {
        const [left] = (await admin.query(`SHOW DATABASES LIKE 'bench\\_%\\_${pid}'`)) as unknown as [unknown[]];
        expect(left).toEqual([]);
      } finally {
        await admin.end();
      }
    } finally {
      fs.rmSync(resultsDir, { recursive: true, force: true });
    }
  });

  it('When BENCH_SECONDS is not a number, then it exits 2 with one line naming it and writes nothing', async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bad-'));
    try {
      const { code, output } = await runBench({ RESULTS_DIR: resultsDir, BENCH_SECONDS: 'soon' });
      expect(code).toBe(2);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).toMatch(/BENCH_SECONDS must be a number/);
      expect(fs.existsSync(path.join(resultsDir, 'bench.json'))).toBe(false);
    } finally {
      fs.rmSync(resultsDir, { recursive: true, force: true });
    }
  });
});
