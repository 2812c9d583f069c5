// Rollout step 9, live (the README's table, row 9): after backfill completes and all reads use the new column.
import type { RolloutStep } from './step.ts';
import { columns } from '../../../shared/schema-mapping.ts';

export const live: RolloutStep = {
  number: 9,
  name: 'live',
  heading: 'live',
  stage: 'live',
  checklistItem: 'After backfill completes and all reads use the new column',
  title: `live: reads trust ${columns.new} (verify clean; under SYNC=app no v1 left since)`,
  precondition: 'reads at 100%, no v1 alive, clean verify after the last v1 stopped',
  command: `\`npm run rollout -- advance\` (reads trust \`${columns.new}\`)`,
  evidence: 'every alive instance loaded the live flags',
  rollback: '`npm run rollout -- rollback`, then `npm run backfill` if a late v1 wrote (a reverse backfill is refused here: it would overwrite that write)',
};
