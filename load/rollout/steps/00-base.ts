// Rollout step 0, base (the README's table, row 0): v1 in production, on the base schema.
import type { RolloutStep } from './step.ts';

export const base: RolloutStep = {
  number: 0,
  name: 'base',
  heading: 'base',
  stage: 'base',
  checklistItem: '(v1 in production)',
  title: 'base schema, seeded users, two v1 behind the balancer, load starts',
  precondition: '—',
  command: '`npm run db:migrate -- --to 001-base`',
  evidence: 'the users table on the base schema, v1 serving it; the load generator running through the balancer',
  rollback: '—',
};
