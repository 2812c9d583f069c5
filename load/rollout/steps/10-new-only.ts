// Rollout step 10, new-only (the README's table, row 10): remove dual-write logic.
import type { RolloutStep } from './step.ts';
import { columns } from '../../../shared/schema-mapping.ts';

export const newOnly: RolloutStep = {
  number: 10,
  name: 'new-only',
  heading: 'new-only',
  stage: 'new-only',
  checklistItem: 'Remove dual-write logic',
  title: 'new-only: remove dual-write (relax the old columns online first)',
  precondition: 'live',
  command: '`npm run db:migrate` (007 relaxes the old columns online), `npm run rollout -- advance`',
  evidence: `v2 writes only ${columns.new}`,
  rollback: `\`npm run rollout -- rollback\`, \`npm run backfill -- --reverse\` (copies only rows whose newest write is provably in \`${columns.new}\`; with a late v1 also \`npm run backfill\`, see [docs/fences.md](docs/fences.md)), verify, \`npm run rollout -- rollback\``,
};
