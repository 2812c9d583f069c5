// Rollout step 6, backfill (the README's table, row 6): start the backfill process to copy old data into the new column.
import type { RolloutStep } from './step.ts';
import { columns } from '../../../shared/schema-mapping.ts';

export const backfill: RolloutStep = {
  number: 6,
  name: 'backfill',
  heading: 'backfill',
  stage: 'backfill',
  checklistItem: 'Start the backfill process to copy old data into the new column',
  title: `backfill: fill ${columns.new} for old rows, in batches, under load`,
  precondition: 'every writer dual-writes (a v1 write after it is caught by verify)',
  command: '`npm run backfill`',
  evidence: 'the backfill exits 0, with its time',
  rollback: 'nothing to undo: idempotent; pause with the `backfill-pause` flag',
};
