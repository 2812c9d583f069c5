// Rollout step 2, dual-write (the README's table, row 2): deploy the new app version with dual-write logic.
import type { RolloutStep } from './step.ts';

export const dualWrite: RolloutStep = {
  number: 2,
  name: 'dual-write',
  heading: 'dual-write',
  stage: 'dual-write',
  checklistItem: 'Deploy the new app version with dual-write logic',
  title: 'dual-write: start a v2 beside the v1s (both versions serve)',
  precondition: '002-expand applied',
  command: 'start v2 instances (`npm run start:v2`) beside the v1s',
  evidence: 'the registry counts a v2 alive; v2 answers through the balancer',
  rollback: 'SIGTERM the v2s: they kept the old columns right',
};
