// Rollout step 8, read shift (the README's table, row 8): use a feature flag to gradually shift reads from old column to new column.
import type { RolloutStep } from './step.ts';

export const readShift: RolloutStep = {
  number: 8,
  name: 'read-shift',
  heading: 'read shift',
  stage: 'read-shift',
  checklistItem: 'Use a feature flag to gradually shift reads from old column to new column',
  title: 'read shift 1% -> 10% -> 50% -> 100%, then a rollback drill',
  precondition: 'clean verify after the backfill',
  command: '`npm run rollout -- advance --percent 1` … `10`, `50`, `100`',
  evidence: 'no anomaly at each percentage; every instance follows the rollback drill (from /healthz), with the time each took',
  rollback: '`npm run rollout -- rollback` or `flags set read-new-percent 0`: every instance follows within a second',
};
