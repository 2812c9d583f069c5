// Rollout step 5, retire v1 (the README's table, row 5): know when the last old instance has been decommissioned.
import type { RolloutStep } from './step.ts';

export const retireV1: RolloutStep = {
  number: 5,
  name: 'retire-v1',
  heading: 'retire v1',
  stage: 'dual-read',
  checklistItem: 'Know when the last old instance has been decommissioned',
  title: 'retire v1: rolling replacement, drain each v1 with SIGTERM',
  precondition: 'v2 serving beside v1',
  command: 'SIGTERM each v1 (it drains), start v2s in their place; `npm run status`',
  evidence: 'each v1 drained and exited 0; the registry counts no v1 alive',
  rollback: 'start v1 again',
};
