// Rollout step 11, contract (the README's table, row 11): decommission the old column after confirming no application reads from it.
import type { RolloutStep } from './step.ts';
import { columns } from '../../../shared/schema-mapping.ts';

export const contract: RolloutStep = {
  number: 11,
  name: 'contract',
  heading: 'contract',
  stage: 'contracted',
  checklistItem: 'Decommission the old column after confirming no application reads from it',
  title: 'contract: drop the old columns',
  precondition: 'new-only, no v1 alive, clean verify on record',
  command: '`npm run db:contract`',
  evidence: `${columns.oldAnd} are gone; v2 serves from ${columns.new}`,
  rollback: '`npm run db:migrate:down` once re-adds and refills the columns (then as new-only; every `down` step is gated, a second one is refused)',
};
