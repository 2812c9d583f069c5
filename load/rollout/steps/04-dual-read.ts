// Rollout step 4, dual-read (the README's table, row 4): enable dual-read in the new app: read from old column by default.
import type { RolloutStep } from './step.ts';

export const dualRead: RolloutStep = {
  number: 4,
  name: 'dual-read',
  heading: 'dual-read',
  stage: 'dual-read',
  checklistItem: 'Enable dual-read in the new app: read from old column by default',
  title: 'dual-read: v2 compares both columns on every read and counts mismatches',
  precondition: 'v2 serving',
  command: '`npm run flags -- set dual-read true`',
  evidence: "v2's mismatch counters (missing = not yet backfilled; different = a v1 write after v2's)",
  rollback: '`npm run flags -- set dual-read false`',
};
