// The demo is the project's main claim: a v1 -> v2 rollout under load behind a real balancer where no user
// sees missing or stale data. This test runs it for real on MySQL/MariaDB behind nginx, short: steps of a second
// and the load capped (SHORT_DEMO); at full pace in demo-full-pace.full.test.ts (make test-full). That the checker
// can fail is shown by prefer-new-read.test.ts (its own file, so the two demos run on two workers at once) and by
// the other anti-patterns in make test-full.
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { expectCleanRollout, runDemo, SHORT_DEMO } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo on MySQL behind the balancer', () => {
  it('When the correct rollout runs under load, then it ends with 0 anomalies, 0 failed requests, exit 0, and both versions served at once, and records its pace, each step\'s rate and the load\'s own stalls', async () => {
    const run = await runDemo({ ...SHORT_DEMO });

    expectCleanRollout(run);
    // What make drift judges it by: the pace, and per step its rate and the load's own longest stall.
    expect(run.recorded).toMatchObject({ scenario: 'rollout', database: 'mysql', passed: true, rate: Number(SHORT_DEMO.DEMO_RATE) });
    expect(run.recorded!.steps.map((s) => s.step)).toEqual(run.summary.steps.map((s) => s.step));
    for (const step of run.recorded!.steps) {
      expect(step.perSecond, step.step).toBeGreaterThan(0);
      expect(step.clientLoopMaxMs, step.step).toBeGreaterThanOrEqual(0);
    }
    expect(run.output).toMatch(/the load's own process \(load, live checker, recorder\): event-loop delay per step p99 [\d.]+-[\d.]+ ms, max [\d.]+-[\d.]+ ms; the load paced at 100 requests\/s/);
  }, 240_000);
});
