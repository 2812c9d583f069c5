// The demo is the project's main claim: a v1 -> v2 rollout under load behind a real balancer where no user
// sees missing or stale data. These tests run it for real (short steps) on MySQL/MariaDB behind nginx, and
// prove the checker can fail by running each anti-pattern scenario, which must be caught.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const mysql = await mysqlTarget();

interface DemoRun {
  code: number | null;
  output: string;
  summary: {
    passed: boolean;
    anomalies: number;
    byKind: Record<string, number>;
    failedRequests: number;
    versionsSeen: string[];
    steps: { step: string; byVersion: Record<string, number>; anomalies: number; requests: number }[];
  };
}

function runDemo(env: Record<string, string>): Promise<DemoRun> {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-demo-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'load/demo.ts')], {
      cwd: ROOT,
      env: { ...process.env, DB: 'mysql', RESULTS_DIR: resultsDir, DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '100', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('close', (code) => {
      const file = path.join(resultsDir, 'demo-summary.json');
      const summary = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
      fs.rmSync(resultsDir, { recursive: true, force: true });
      resolve({ code, output, summary });
    });
  });
}

describe.skipIf(mysql.skip)('make demo on MySQL behind the balancer', () => {
  it('When the correct rollout runs under load, then it ends with 0 anomalies, 0 failed requests, exit 0, and both versions served at once', async () => {
    const run = await runDemo({});

    expect(run.summary, run.output).not.toBeNull();
    expect(run.summary.anomalies, run.output).toBe(0);
    expect(run.summary.failedRequests, run.output).toBe(0);
    expect(run.code, run.output).toBe(0);
    expect(run.summary.versionsSeen).toEqual(['v1', 'v2']);
    const mixed = run.summary.steps.filter((s) => (s.byVersion.v1 ?? 0) > 0 && (s.byVersion.v2 ?? 0) > 0);
    expect(mixed.length, 'steps where v1 and v2 both answered').toBeGreaterThan(0);
    expect(run.summary.steps.map((s) => s.step)).toContain('11-contract');
    expect(run.output).toContain('nginx');
  }, 240_000);

  // The seed's warnings, made runnable: each one must be caught with its kind of anomaly and a non-zero exit.
  const expected: [string, string[]][] = [
    ['new-only-write', ['garbage', 'stale']],
    ['new-first-crash', ['newAheadOfOld', 'garbage']],
    ['prefer-new-read', ['stale']],
    ['early-read-shift', ['garbage']],
    ['cached-old-read', ['stale']],
  ];
  it.each(expected)('When v2 runs the %s anti-pattern, then the checker reports it and the demo exits non-zero', async (scenario, kinds) => {
    const run = await runDemo({ SCENARIO: scenario });

    expect(run.summary, run.output).not.toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.summary.anomalies).toBeGreaterThan(0);
    expect(kinds.some((kind) => run.summary.byKind[kind]! > 0), `${scenario}: expected one of ${kinds.join(', ')} in ${JSON.stringify(run.summary.byKind)}`).toBe(true);
  }, 120_000);
});
