// The demo is the project's main claim: a v1 -> v2 rollout under load behind a real balancer where no user
// sees missing or stale data. This test runs it for real (short steps) on MySQL/MariaDB behind nginx; that the
// checker can fail is shown by prefer-new-read.test.ts (its own file, so the two demos run on two workers at once)
// and by the other anti-patterns in make test-full.
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { runDemo } from './support.ts';

const mysql = await mysqlTarget();

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
});
