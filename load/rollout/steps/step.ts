// What a rollout step says: the shape of every file beside this one.
import type { StageName } from '../../../shared/rollout/stages.ts';

export interface RolloutStep {
  /** Its row in the README's table, and its place in `make demo`. */
  number: number;
  /** As the demo's history and summary label the step (`4-dual-read`), and its file name (`04-dual-read.ts`). */
  name: string;
  /** The README table's "step" column. */
  heading: string;
  /** The stage the system is in once the step has run (`npm run rollout -- status` shows it). */
  stage: StageName;
  /** The item of the expand/contract checklist this step carries out. */
  checklistItem: string;
  /** The line `make demo` prints as the step starts (`== step 4: ...`). */
  title: string;
  /** What must hold before the step runs (README, markdown). */
  precondition: string;
  /** What the operator runs (README, markdown). */
  command: string;
  /** What shows that the step held: what the demo prints as evidence. */
  evidence: string;
  /** How to go back (README, markdown). */
  rollback: string;
}
