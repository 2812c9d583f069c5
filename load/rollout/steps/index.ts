// The rollout's steps, in order: one file per step (NN-name.ts), each with its precondition, the operator's
// command, the evidence that it held and its rollback. The README's table lists the same (test/rollout/steps.test.ts
// checks it row by row), `make demo` runs them in this order and prints their titles, preconditions and commands.
import { base } from './00-base.ts';
import { expand } from './01-expand.ts';
import { dualWrite } from './02-dual-write.ts';
import { crossVersion } from './03-cross-version.ts';
import { dualRead } from './04-dual-read.ts';
import { retireV1 } from './05-retire-v1.ts';
import { backfill } from './06-backfill.ts';
import { verify } from './07-verify.ts';
import { readShift } from './08-read-shift.ts';
import { live } from './09-live.ts';
import { newOnly } from './10-new-only.ts';
import { contract } from './11-contract.ts';
import type { RolloutStep } from './step.ts';

export type { RolloutStep };

/** Every step, by number (ROLLOUT_STEPS[n].number === n). */
export const ROLLOUT_STEPS: readonly RolloutStep[] = [base, expand, dualWrite, crossVersion, dualRead, retireV1, backfill, verify, readShift, live, newOnly, contract];

/** A step by its name (as the demo's history labels it: `${number}-${name}`). */
export function rolloutStep(name: RolloutStep['name']): RolloutStep {
  const step = ROLLOUT_STEPS.find((s) => s.name === name);
  if (!step) throw new Error(`no rollout step named ${JSON.stringify(name)}`);
  return step;
}

/** How the demo's history and summary label a step: `4-dual-read`. */
export const stepLabel = (step: RolloutStep): string => `${step.number}-${step.name}`;

/** What a chart marker shows for a step (the dashboard's and report.html's): its number and name, "4 dual-read". */
export function markerLabel(step: RolloutStep): string {
  return `${step.number} ${step.name}`;
}
