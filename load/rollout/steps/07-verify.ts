// Rollout step 7, verify (the README's table, row 7): monitor for data inconsistencies between old and new columns.
import type { RolloutStep } from './step.ts';

export const verify: RolloutStep = {
  number: 7,
  name: 'verify',
  heading: 'verify',
  stage: 'backfill',
  checklistItem: 'Monitor for data inconsistencies between old and new columns',
  title: 'verify: count drift between old and new columns',
  precondition: 'backfill done',
  command: '`npm run verify` (exit 1 on drift; `--watch`)',
  evidence: 'verify exits 0: no drift',
  rollback: 're-run the backfill',
};
