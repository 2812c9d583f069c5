// Rollout step 3, cross-version check (the README's table, row 3): verify that data written by the new app is visible to the old app.
import type { RolloutStep } from './step.ts';

export const crossVersion: RolloutStep = {
  number: 3,
  name: 'cross-version',
  heading: 'cross-version check',
  stage: 'dual-write',
  checklistItem: 'Verify that data written by the new app is visible to the old app',
  title: 'cross-version check: a write through each version is read through the other',
  precondition: 'v1 and v2 both serving',
  command: "the demo's live check; `test/cross-version/`",
  evidence: 'a write through v2 read back through v1, and a write through v1 read back through v2',
  rollback: 'as step 2',
};
