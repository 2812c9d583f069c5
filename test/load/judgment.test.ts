// No run passes without being judged: each runner (make demo, make chaos, run-load) lists the parts of its
// judgment (load/run/judgment.ts), and a part that did not run fails the run, named. Here: the rule itself, then
// run-load for real, with a final read that cannot succeed. The demo's own run of it (a whole rollout) is in
// judgment-demo.full.test.ts (make test-full).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { conclude, judgeRun, Judgment } from '../../load/run/judgment.ts';
import { startFakeUsersServer } from './fake-users-server.ts';
import { FIELDS } from './histories.ts';
import { runScript } from './run-script.ts';



describe('the judgment rule', () => {
  const emptyVerdict = () => check({ fields: FIELDS, ops: [], initial: [{ key: '1', value: { name: 'a', email: 'a@example.test' } }], final: [{ key: '1', value: { name: 'a', email: 'a@example.test' }, at: 1 }], snapshots: [] });

  it('When a required part threw, then missing() names it with the reason, and a part never recorded is named too', async () => {
    const judgment = new Judgment('demo', ['final read', 'per-step snapshots', 'final snapshot']);
    await judgment.attempt('final read', () => Promise.reject(new Error('connection refused')));
    judgment.ran('per-step snapshots', '3 steps');

    expect(judgment.missing()).toEqual(['final read: did not run (connection refused)', 'final snapshot: did not run']);
    expect(judgment.describe()).toContain('final read: DID NOT RUN');
  });

  it('When the runner says a part ran but the checker never received it, then confirm() marks it as not run', () => {
    const judgment = new Judgment('chaos kill-v2', ['final read', 'final snapshot']);
    judgment.ran('final read');
    judgment.ran('final snapshot');
    judgment.confirm(check({ fields: FIELDS, ops: [], snapshots: [] }), 1);

    expect(judgment.missing()).toEqual(['final read: did not run (the checker received no final value (no user was read))', 'final snapshot: did not run (the checker judged 0 of 1 snapshots)']);
  });

  it('When every part ran and reached the checker, then nothing is missing, and a runner without snapshots says they are not applicable', () => {
    const judgment = new Judgment('run-load', ['final read']);
    judgment.ran('final read', '1 users');
    judgment.confirm(emptyVerdict(), 0);

    expect(judgment.missing()).toEqual([]);
    expect(judgment.describe()).toBe('judgment (run-load): final read: ran (1 users); snapshots: not applicable');
  });
});

describe('the end of every run (judgeRun: demo, chaos and run-load share it)', () => {
  it('When the final snapshot throws and no balancer was started, then both parts are named as not run, the verdict still comes, and the run cannot pass', async () => {
    const recorder = new HistoryRecorder({ fields: FIELDS, file: null, step: 'load' });
    recorder.recordInitial([{ key: '7', value: { name: 'judge-run 7', email: 'judge-run.7@example.test' } }]);

    const { verdict, judgment } = await judgeRun({
      runner: 'chaos test',
      recorder,
      snapshots: [],
      finalSnapshot: () => Promise.reject(new Error('the database went away')),
      finalReadFrom: null,
    });

    expect(recorder.currentStep).toBe('final');
    expect(judgment.missing()).toEqual(['final read: did not run (no balancer was started)', 'final snapshot: did not run (the database went away)']);
    expect(verdict.anomalies).toBe(0);
    expect(conclude(verdict, { reasons: judgment.missing(), budget: 0 })).toEqual({ passed: false, line: expect.stringMatching(/^FAILED: final read: did not run/) });
  });

  it('When the final read runs against a server that lost a seeded user\'s value, then judgeRun reads every user the history names and the checker flags the loss', async () => {
    const server = await startFakeUsersServer();
    try {
      const recorder = new HistoryRecorder({ fields: FIELDS, file: null, step: 'load' });
      recorder.recordInitial([{ key: '424242', value: { name: 'judge-run lost', email: 'judge-run.lost@example.test' } }]);
      const steps = ['1-only-step'];
      const snapshots = [{ step: '1-only-step', takenAt: recorder.now(), v1MayBeAlive: false, rows: [] }];

      const { verdict, judgment } = await judgeRun({ runner: 'demo', recorder, snapshots, perStepSnapshots: steps, finalReadFrom: server.url });

      expect(judgment.missing()).toEqual([]);
      expect(verdict.finalReadChecked).toBe(true);
      expect(verdict.anomalies).toBeGreaterThan(0);
      expect(conclude(verdict, { reasons: [], budget: 0 }).passed).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe('runners whose final read fails', () => {
  it('When run-load\'s final read cannot succeed (every read answers 503), then it prints FAILED naming the final read and exits 1', async () => {
    const server = await startFakeUsersServer({ failReads: true });
    try {
      const run = await runScript('load/run/run-load.ts', ['--url', server.url, '--seconds', '1', '--connections', '2', '--max-failed', '1000000'], {});
      const verdict = JSON.parse(fs.readFileSync(path.join(run.resultsDir, 'verdict.json'), 'utf8'));
      fs.rmSync(run.resultsDir, { recursive: true, force: true });

      expect(run.output).toMatch(/FAILED: final read: did not run \(final read of user \d+ failed 3 times: HTTP 503\)/);
      expect(run.output).not.toContain('PASSED');
      expect(run.code).toBe(1);
      expect(verdict.unjudged).toEqual([expect.stringMatching(/^final read: did not run/)]);
    } finally {
      await server.close();
    }
  }, 60_000);

});
