// Runs `make bench` (load/bench/index.ts) as a process against MYSQL_URL: its exit code, output and pid.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { MYSQL_URL } from '../support/databases.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export function runBench(env: Record<string, string>): Promise<{ code: number | null; output: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawnTsx('load/bench/index.ts', [], {
      cwd: ROOT,
      env: { ...process.env, MYSQL_URL, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output, pid: child.pid! }));
  });
}

/** The smoke size both smoke tests run at: half-second measurements, one round, 3,000 rows. */
const SMOKE_SETTINGS = {
  BENCH_SECONDS: '0.5',
  BENCH_REPEAT: '1',
  BENCH_CONNECTIONS: '4',
  DB_POOL_MAX: '4',
  BENCH_BACKFILL_ROWS: '3000',
  BENCH_LIVE_ROWS: '3000',
  BENCH_LIVE_RATE: '50',
  BENCH_QUIET_SECONDS: '0',
};

export interface SmokeRun {
  code: number | null;
  output: string;
  /** bench.json, read back (null when it was not written). */
  bench: BenchJson | null;
  /** The bench's own databases still on the server after it exited (there must be none). */
  databasesLeft: unknown[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench.json as the tests read it: checked field by field.
type BenchJson = Record<string, any>;

/**
 * `make bench` smoke-sized with `parts` (BENCH_PARTS: '' for every part) in a temp results folder, which `prepare`
 * may fill first (a demo summary); returns the exit code, output, bench.json and the databases it left.
 */
export async function runSmoke(parts: string, prepare: (resultsDir: string) => void = () => {}): Promise<SmokeRun> {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  try {
    prepare(resultsDir);
    const { code, output, pid } = await runBench({ RESULTS_DIR: resultsDir, ...SMOKE_SETTINGS, BENCH_PARTS: parts });
    const file = path.join(resultsDir, 'bench.json');
    const bench = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as BenchJson) : null;
    const admin = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      const [left] = (await admin.query(`SHOW DATABASES LIKE 'bench\\_%\\_${pid}'`)) as unknown as [unknown[]];
      return { code, output, bench, databasesLeft: left };
    } finally {
      await admin.end();
    }
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
}

export const positiveRatio = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0.01 && value < 100;

/**
 * What every smoke run must show whatever its parts: bench.json written without a failure, the exit code following
 * the verdicts (1 when a goal was missed or inconclusive, likely at this size, never because the run broke), a
 * spread and a verdict wherever there is a goal (an unmeasured figure inconclusive, never a pass), the table
 * printed, and none of its databases left.
 */
export function expectSmokeShape({ code, output, bench, databasesLeft }: SmokeRun): BenchJson {
  expect(bench, output).not.toBeNull();
  expect(bench!.failure, output).toBeNull();
  expect(code, output).toBe(bench!.goalsMissed.length + bench!.goalsInconclusive.length > 0 ? 1 : 0);
  expect(bench!.settings).toMatchObject({ seconds: 0.5, repeat: 1, connections: 4, poolMax: 4 });
  for (const figure of bench!.figures) {
    if (figure.goal === '-') expect(figure.verdict, figure.key).toBeNull();
    else expect(['pass', 'fail', 'inconclusive'], figure.key).toContain(figure.verdict);
    if (figure.spread === null) expect(figure.verdict === null || figure.verdict === 'inconclusive', figure.key).toBe(true);
    else expect(figure.spread[0], figure.key).toBeLessThanOrEqual(figure.spread[1]);
    if (figure.detail?.perRound) expect(figure.detail.perRound, figure.key).toHaveLength(1);
  }
  expect(output).toMatch(/\| figure +\| baseline +\| candidate +\| ratio +\| spread +\| goal +\| verdict +\|/);
  expect(databasesLeft).toEqual([]);
  return bench!;
}
