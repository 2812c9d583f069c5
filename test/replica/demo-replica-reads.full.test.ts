// make demo DB=mysql-replica SCENARIO=replica-reads (make test-full, with the other anti-pattern demos): the demo starts its own MariaDB primary and GTID replica,
// runs steps 0-5 under load with v2 reading the replica naively, stops the replica's SQL thread for a few
// seconds mid-run, and its checker (per session) must report stale reads (and no kind a read cannot cause) and
// exit non-zero. (The correct
// strategy under the same lag reports 0: test/replica/checker-under-lag.test.ts, and the full rollout on
// DB=mysql-replica in docs/read-replicas.md.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replicaUnavailable, title } from './support.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(replicaUnavailable !== null)(title('make demo DB=mysql-replica SCENARIO=replica-reads'), () => {
  it('When v2 reads the replica ignoring tokens and the replica lags mid-run, then the checker reports stale reads (non-monotonic and not-found ones only as the load makes them, nothing else), and the demo exits non-zero', async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-replica-demo-'));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawnTsx('load/rollout/demo.ts', [], {
        cwd: ROOT,
        env: { ...process.env, DB: 'mysql-replica', SCENARIO: 'replica-reads', RESULTS_DIR: resultsDir, DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '100' },
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
    expect(summary.failedRequests).toBe(0);
    expect(code).toBe(1);
    // Exactly its kinds: stale reads of a session's own writes, first seen by the step with the injected lag at
    // the latest; non-monotonic reads and not-found after the session's own create (garbage) when the load
    // happens to read that way. Nothing is lost and no row is torn: only reads are wrong.
    const byStep = JSON.stringify(summary.anomaliesByStep);
    const found = Object.keys(summary.byKind).filter((kind) => summary.byKind[kind] > 0);
    expect(found.filter((kind) => kind !== 'nonMonotonic' && kind !== 'garbage'), byStep).toEqual(['stale']);
    const steps = ['2-dual-write', '3-cross-version', '4-dual-read'];
    const firstStale = steps.find((step) => (summary.anomaliesByStep[step]?.stale ?? 0) > 0);
    expect(firstStale, byStep).toBeDefined();
    expect(summary.anomaliesByStep['4-dual-read']?.stale ?? 0, byStep).toBeGreaterThan(0);
  }, 120_000);
});
