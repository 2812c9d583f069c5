// What a `make demo SYNC=trigger` run must show (the short runs in make test, the full-pace ones in make test-full):
// 0 anomalies, 0 failed requests and 0 drift (the database copies every write both ways, so the two sides never
// differ), and a v1 that keeps serving past step 5, through live and new-only (its writes reach the new column),
// until the contract step retires it.
import { expect } from 'vitest';
import { runDemo } from '../demo/support.ts';
import type { DemoRun } from '../demo/support.ts';

/** Resolves with the run, for what a caller checks besides. */
export async function expectTriggerRollout(env: Record<string, string>): Promise<DemoRun> {
  const run = await runDemo({ SYNC: 'trigger', ...env });

  expect(run.code, run.output.slice(-3000)).toBe(0);
  expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0, drift: 0 });
  const served = Object.fromEntries(run.summary.steps.map((step) => [step.step, step.byVersion]));
  for (const step of ['6-backfill', '8-read-shift', '9-live', '10-new-only']) expect(served[step]?.v1 ?? 0, `v1 answered requests in ${step}`).toBeGreaterThan(0);
  expect(run.output).toMatch(/v1-b keeps serving under SYNC=trigger until the contract step/);
  expect(run.output).toMatch(/v1-b answered during the backfill/);
  expect(run.output).toMatch(/v1-b drained and exited 0 .*\n.*the last v1 is gone, after serving through live and new-only/);
  return run;
}
