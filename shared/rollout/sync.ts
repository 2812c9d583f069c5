// The sync mode in the rollout: what `npm run db:migrate` does with SYNC (record it once, in the expand phase,
// and hold the triggers the recorded mode needs), what it does before reverting a migration the triggers depend
// on, and the trigger fence under SYNC=app (installed on the way into live, removed on the way below it:
// transitions.ts). The modes and the triggers themselves: shared/sync/.
import type { Database } from '../db/connection.ts';
import { parseSyncMode, SYNC_EVENT_ACTION, syncDirectionsFor } from '../sync/mode.ts';
import type { SyncMode } from '../sync/mode.ts';
import { dropSyncTriggers, installSyncTriggers, SYNC_DIRECTIONS, triggerPrivilegeRefusal } from '../sync/triggers.ts';
import { rolloutEvents } from './events.ts';
import { deriveStage, STAGES } from './stages.ts';
import type { StageName } from './stages.ts';
import { EXPAND_MIGRATION, readRolloutState } from './state.ts';
import { columns, mapping } from '../schema-mapping.ts';

export const ROLLOUT_LOG_MIGRATION = '005-rollout-log';

const at = (name: StageName) => STAGES.indexOf(name);

/** Stages in which both sides exist and the triggers may run (profile_data added, old columns not dropped). */
export function bothSidesExist(stage: StageName): boolean {
  return at(stage) >= at('expand') && at(stage) <= at('new-only');
}

/** The directions the database should hold for this mode in this stage. */
export function syncDirectionsIn(mode: SyncMode, stage: StageName): ReturnType<typeof syncDirectionsFor> {
  return bothSidesExist(stage) ? syncDirectionsFor(mode, { live: at(stage) >= at('live') }) : [];
}

/**
 * Why the mapping cannot run under `mode`, or null: copying back (new -> old) in a trigger needs the transform in
 * SQL, so a code-only mapping keeps SYNC=app. For a command to refuse before it starts anything.
 */
export function syncModeUnsupported(mode: SyncMode): string | null {
  if (mode === 'trigger' && !mapping.sql) return `mapping ${mapping.id} has no SQL form (its transform is code only), so no trigger can copy ${columns.new} back to ${columns.old}; use SYNC=app (docs/sync-strategies.md)`;
  return null;
}

/**
 * SYNC as a command that runs a rollout reads it before it starts anything (make demo, make chaos): undefined when
 * unset; an Error of one line for a bad value, or for a mode this mapping cannot run.
 */
export function parseRunnableSyncMode(raw: string | undefined): SyncMode | undefined {
  const mode = parseSyncMode(raw);
  const unsupported = mode && syncModeUnsupported(mode);
  if (unsupported) throw new Error(`SYNC=${mode} cannot run: ${unsupported}`);
  return mode;
}

/**
 * After db:migrate has applied its migrations: record SYNC if given (once: a different recorded mode is refused),
 * then, under trigger, install whatever the stage needs and is missing (idempotent: it also completes an
 * interrupted install). Under app it changes nothing: the rollout's transitions own the fence.
 */
export async function applySyncMode(
  db: Database,
  requested: SyncMode | undefined,
  log: (line: string) => void = () => {},
  /** oneWay: the one-way-trigger anti-pattern's install (shared/sync/triggers.ts); unset: as ANTI_PATTERN says. */
  { oneWay }: { oneWay?: boolean } = {},
): Promise<void> {
  let state = await readRolloutState(db);
  const stage = deriveStage(state);
  if (requested !== undefined) {
    if (!state.migrations.includes(ROLLOUT_LOG_MIGRATION) || !state.migrations.includes(EXPAND_MIGRATION)) {
      throw new Error(`SYNC=${requested} is recorded in the rollout log (${ROLLOUT_LOG_MIGRATION}), which is not applied yet: run db:migrate to ${ROLLOUT_LOG_MIGRATION} or beyond`);
    }
    const recorded = state.sync!;
    if (recorded.recordedAt !== null && recorded.mode !== requested) {
      throw new Error(`SYNC=${requested}, but the database records sync mode ${recorded.mode} (since ${recorded.recordedAt}): the mode is chosen once, in the expand phase`);
    }
    if (recorded.recordedAt === null) {
      const unsupported = syncModeUnsupported(requested);
      if (unsupported) throw new Error(`SYNC=${requested} is not recorded: ${unsupported}`);
      // The mode changes what the stages mean (which versions may write where): it is chosen before any read
      // depends on profile_data.
      if (requested !== 'app' && at(stage.name) >= at('read-shift')) {
        throw new Error(`SYNC=${requested}: the stage is ${stage.label}; the sync mode is chosen in the expand phase, before the read shift`);
      }
      // Not recorded at all when the triggers it needs cannot be created here (binary logging without the right).
      const refusal = requested === 'trigger' ? await triggerPrivilegeRefusal(db) : null;
      if (refusal) throw new Error(`SYNC=trigger is not recorded: ${refusal}`);
      await rolloutEvents(db).record({
        action: SYNC_EVENT_ACTION,
        fromStage: stage.label,
        toStage: null,
        changes: JSON.stringify({ sync: requested }),
        flagSetVersion: null,
        outcome: 'completed',
        detail: null,
        actor: 'db:migrate',
      });
      log(`sync mode ${requested} recorded (stage ${stage.label})`);
      state = await readRolloutState(db);
    }
  }
  const { mode, triggers } = state.sync!;
  if (mode !== 'trigger') return;
  const missing = syncDirectionsIn(mode, stage.name).filter((direction) => triggers[direction] !== 'installed');
  if (missing.length > 0) {
    const installed = await installSyncTriggers(db, missing, { log, ...(oneWay === undefined ? {} : { oneWay }) });
    log(`sync triggers installed: ${installed.join(', ') || 'none'}`);
  }
}

/** Migrations whose way back removes what the triggers read or where the mode is recorded. */
const TRIGGERS_DEPEND_ON = [EXPAND_MIGRATION, ROLLOUT_LOG_MIGRATION];

/**
 * Before db:migrate:down reverts `migration`: drop the sync triggers if it removes profile_data (a trigger naming
 * a dropped column fails every later write on MariaDB, and blocks the drop on SQLite) or the mode's record.
 */
export async function beforeRevert(db: Database, migration: string, log: (line: string) => void = () => {}): Promise<void> {
  if (TRIGGERS_DEPEND_ON.includes(migration)) await dropSyncTriggers(db, SYNC_DIRECTIONS, { log });
}
