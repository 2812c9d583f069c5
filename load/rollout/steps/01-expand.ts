// Rollout step 1, expand (the README's table, row 1): confirm that the schema expansion is deployed and verified.
import type { RolloutStep } from './step.ts';
import { columns } from '../../../shared/schema-mapping.ts';

export const expand: RolloutStep = {
  number: 1,
  name: 'expand',
  heading: 'expand',
  stage: 'expand',
  checklistItem: 'Confirm that the schema expansion is deployed and verified',
  title: `expand: add ${columns.new} online (and the rollout's support tables) while v1 serves`,
  precondition: '001-base applied',
  command: `\`npm run db:migrate -- --to 006-instance-strategy\` (\`002-expand\`: \`ADD COLUMN ${columns.new}\`, instant and online; 003–006: the rollout's own tables)`,
  evidence: "each migration applied with its time; v1 kept serving (the step's errors are counted in the summary)",
  rollback: '`npm run db:migrate:down` (v1 never noticed)',
};
