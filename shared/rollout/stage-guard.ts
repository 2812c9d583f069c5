// The stage guard: the stages each version can serve safely, in ONE table, and the check every instance runs
// at start and on every flag change (shared/server/run-instance.ts). A version outside its range refuses
// with one line naming the stage and the command that goes back, and exit code 3: at start before it
// registers; while running it stops taking public requests at once, de-registers, drains, then exits.
//
// Why v1 stops at read-shift: v1 reads and writes only the old columns. From live on, reads trust profile_data,
// so a v1 write is acknowledged and then invisible (v2 serves the older profile_data), and in new-only a v1
// read of a v2-created row sees NULLs. Every version a team ships needs this guard with its own range: the
// registry and the gates only see instances that are honest about what they can serve.
import type { AppVersion } from '../config.ts';
import type { SyncMode } from '../sync/mode.ts';
import { STAGES } from './stages.ts';
import type { Stage, StageName } from './stages.ts';

/** The exit code of an instance refused by its stage guard (1 is a config or schema refusal). */
export const STAGE_GUARD_EXIT_CODE = 3;

/** How the old and new columns are kept in sync while both versions run (shared/sync/mode.ts): the table is keyed by it. */
export { SYNC_MODES } from '../sync/mode.ts';
export type { SyncMode } from '../sync/mode.ts';

export interface StageRange {
  lowest: StageName;
  highest: StageName;
}

export const SERVABLE_STAGES: Record<SyncMode, Record<AppVersion, StageRange>> = {
  app: {
    // v1 knows only the old columns: safe while they are the truth that reads are verified against.
    v1: { lowest: 'base', highest: 'read-shift' },
    // v2 follows write-mode: dual-writes until new-only, then profile_data only, which still serves once the
    // old columns are dropped (its schema check refuses a contracted schema with write-mode dual).
    v2: { lowest: 'expand', highest: 'contracted' },
  },
  // The database copies every write both ways (shared/sync/triggers.ts): a v1 write reaches profile_data, which
  // live reads, and new-only's writes reach the old columns, which v1 reads. v1 stops at contract, which drops
  // its columns (its gate still waits for the last v1).
  trigger: {
    v1: { lowest: 'base', highest: 'new-only' },
    v2: { lowest: 'expand', highest: 'contracted' },
  },
};

const index = (name: StageName) => STAGES.indexOf(name);

/** The one line a version outside its range prints (null: the stage is in range). */
export function stageGuardRefusal(appVersion: AppVersion, stage: Stage, syncMode: SyncMode = 'app'): string | null {
  // The mode as the database records it; absent (a state read without it) is the default.
  const { lowest, highest } = SERVABLE_STAGES[syncMode][appVersion];
  const at = index(stage.name);
  if (at >= index(lowest) && at <= index(highest)) return null;
  const range = `${lowest}..${highest}`;
  if (at < index(lowest)) return `${appVersion} cannot serve stage ${stage.label} (it serves ${range}): move the rollout forward first (npm run rollout -- status)`;
  return `${appVersion} cannot serve stage ${stage.label} (it serves ${range}): go back with ${wayBackTo(stage.name, highest)}, or run a version that serves ${stage.label}`;
}

/** The commands that bring the rollout from `from` back down to `to`. */
function wayBackTo(from: StageName, to: StageName): string {
  const rollbacks = 'npm run rollout -- rollback (repeat until npm run rollout -- status says ' + to + ')';
  return from === 'contracted' ? `npm run db:migrate:down (re-adds the old columns), then ${rollbacks}` : rollbacks;
}
