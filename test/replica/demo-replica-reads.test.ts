// make demo DB=mysql-replica SCENARIO=replica-reads: the demo starts its own MariaDB primary and GTID replica,
// runs steps 0-5 under load with v2 reading the replica naively, stops the replica's SQL thread for a few
// seconds mid-run, and its checker (per session) must report stale reads and exit non-zero. (The correct
// strategy under the same lag reports 0: test/replica/checker-under-lag.test.ts, and the full rollout on
// DB=mysql-replica in docs/read-replicas.md.)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replicaUnavailable, title } from './support.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(replicaUnavailable !== null)(title('make demo DB=mysql-replica SCENARIO=replica-reads'), () => {
  it('When v2 reads the replica ignoring tokens and the replica lags mid-run, then the checker reports stale reads and the demo exits non-zero', async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-replica-demo-'));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'load/demo.ts')], {
        cwd: ROOT,
        env: { ...process.env, DB: 'mysql-replica', SCENARIO: 'replica-reads', RESULTS_DIR: resultsDir, DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '100' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (c) => (text += c));
      child.stderr.on('data', (c) => (text += c));
      child.on('close', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    const file = path.join(resultsDir, 'demo-summary.json');
    const summary = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
    fs.rmSync(resultsDir, { recursive: true, force: true });

    expect(summary, output).not.toBeNull();
    expect(output).toMatch(/replica SQL thread stopped/);
    expect(output).toMatch(/replica SQL thread started after \d+ ms; caught up/);
    expect(summary.consistency).toBe('session');
    expect(summary.byKind.stale, JSON.stringify(summary.byKind)).toBeGreaterThan(0);
    expect(summary.failedRequests).toBe(0);
    expect(code).toBe(1);
    const lagStep = summary.steps.find((s: { step: string }) => s.step === '4-shadow');
    expect(lagStep.anomalies).toBeGreaterThan(0);
  }, 120_000);
});
