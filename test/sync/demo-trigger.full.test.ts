// `make demo SYNC=trigger`: the whole rollout with the sync triggers instead of app dual-write, under load through
// the balancer, judged by the same checker. What the trigger strategy must show: 0 anomalies, 0 drift at every step
// (the database copies every write both ways, so the two sides never differ), and a v1 that keeps serving past
// step 5, through live and new-only (its writes reach the new column), until the contract step retires it.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../demo/support.ts';
import { mysqlTarget } from '../support/databases.ts';

const mysql = await mysqlTarget();

describe('make demo SYNC=trigger', () => {
  const expectTriggerRollout = async (db: string) => {
    const run = await runDemo({ SYNC: 'trigger', DB: db });

    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0, drift: 0 });
    const served = Object.fromEntries(run.summary.steps.map((step) => [step.step, step.byVersion]));
    for (const step of ['6-backfill', '8-read-shift', '9-live', '10-new-only']) expect(served[step]?.v1 ?? 0, `v1 answered requests in ${step}`).toBeGreaterThan(0);
    expect(run.output).toMatch(/v1-b keeps serving under SYNC=trigger until the contract step/);
    expect(run.output).toMatch(/v1-b drained and exited 0 .*\n.*the last v1 is gone, after serving through live and new-only/);
  };

  it('When the rollout runs with SYNC=trigger on SQLite, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout('sqlite'), 600_000);

  it.skipIf(mysql.skip !== null)('When the rollout runs with SYNC=trigger on MySQL/MariaDB, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout('mysql'), 600_000);
});
