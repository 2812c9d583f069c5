// make test-full (CI runs it after make test): the demo's judgment for real, a whole SQLite rollout whose final
// read cannot succeed (DEMO_FAULT=final-read): it must not pass. The run also shows the step-3 cross-version
// check recorded as external writes, so that no row goes unexplained. The rule itself: judgment.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../load/proof/history.ts';
import { runScript } from './run-script.ts';

describe('the demo whose final read fails', () => {
  it('When the demo\'s final read fails (DEMO_FAULT=final-read), then the correct rollout does not print PASSED, names the final read, and exits 1', async () => {
    const run = await runScript('load/rollout/demo.ts', [], { DB: 'sqlite', DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '20', DEMO_FAULT: 'final-read', DASHBOARD_PORT: '0' });
    const summaryFile = path.join(run.resultsDir, 'demo-summary.json');
    const summary = fs.existsSync(summaryFile) ? JSON.parse(fs.readFileSync(summaryFile, 'utf8')) : null;
    const history = readHistory(path.join(run.resultsDir, 'history.jsonl'));
    fs.rmSync(run.resultsDir, { recursive: true, force: true });
    const external = history.ops.filter((op) => op.external !== undefined);

    expect(summary, run.output).not.toBeNull();
    // Everything else held: the rollout (hot keys in its mix) reached contract with no anomaly in what was judged.
    expect(summary.failure, run.output).toBeNull();
    expect(summary.anomalies, JSON.stringify(summary.anomaliesByStep)).toBe(0);
    expect(summary.steps.map((s: { step: string }) => s.step)).toContain('11-contract');
    expect(summary.unjudged).toEqual([expect.stringMatching(/^final read: did not run \(final read of user \d+ failed 3 times: connect ECONNREFUSED/)]);
    expect(summary.passed).toBe(false);
    expect(run.output).toMatch(/FAILED: final read: did not run/);
    expect(run.output).not.toContain('PASSED');
    expect(run.code).toBe(1);
    // The step-3 cross-version check went around the load client: recorded as external, so its row is explained.
    expect(external.map((op) => [op.f, op.external, op.outcome, op.version])).toEqual([
      ['create', 'cross-version-check', 'ok', 'v2'],
      ['read', 'cross-version-check', 'ok', 'v1'],
      ['write', 'cross-version-check', 'ok', 'v1'],
      ['read', 'cross-version-check', 'ok', 'v2'],
    ]);
    expect(new Set(external.map((op) => op.key)).size).toBe(1);
    expect(run.output).not.toMatch(/rows of unknown users not judged/);
  }, 240_000);
});
