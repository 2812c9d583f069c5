// The gate of `npm run db:migrate:down` (like db:contract's): reverting a migration is a schema change under the
// running versions, so each step refuses, naming the stage, where it would break them or drop the only copy of
// data. The documented way back after a contract is one down (099 re-adds and refills the old columns; the stage
// is new-only again); the gate stops the slide after it. Pure, like gates.ts, so status and tests can judge it.
import { laggingInstances } from './gates.ts';
import { deriveStage, STAGES } from './stages.ts';
import type { RolloutState } from './state.ts';
import { columns } from '../schema-mapping.ts';

/** Stages in which flags steer reads or writes: the gates read the verify history, the backfill runs and the log. */
const FLAG_STAGES_FROM = STAGES.indexOf('read-shift');

export function migrateDownReasons(state: RolloutState, migration: string): string[] {
  const stage = deriveStage(state);
  const at = `the stage is ${stage.label}`;
  const pastBackfill = STAGES.indexOf(stage.name) >= FLAG_STAGES_FROM;
  const rollBack = 'roll back to backfill or earlier first (npm run rollout -- rollback, as npm run rollout -- status shows)';
  switch (migration) {
    case '099-contract':
      // The way back from contracted: re-adds name/email (nullable) and fills them from profile_data.
      return [];
    case '006-string-key-ranges': {
      // Holds the checkpoint and verify ranges of runs over string keys.
      const running = state.backfill?.unfinished;
      return [
        ...(pastBackfill ? [`${at}: reverting 006-string-key-ranges drops the key ranges of backfill runs and verifies over string keys: ${rollBack}`] : []),
        ...(running?.recentlyUpdated ? [`${at}: backfill run #${running.id} is running (${running.owner}): stop it first (SIGINT), or wait for it`] : []),
      ];
    }
    case '007-relax-old-columns': {
      if (stage.name === 'new-only') {
        return [`${at}: reverting 007-relax-old-columns restores NOT NULL on ${columns.old}, and v2's new-only inserts leave them out: npm run rollout -- rollback first (v2 dual-writes again), then npm run backfill -- --reverse`];
      }
      // An instance still on an older flag set may still be writing new-only.
      return laggingInstances(state).map((i) => `${at}: ${i.appVersion} instance ${i.instanceId} has not loaded flag-set version ${state.flags!.version} yet (it has ${i.flagSetVersion ?? 'none'}): it may still insert without ${columns.old}`);
    }
    case '006-instance-strategy': {
      // The live gate reads each v2's strategy from this column; without it, a sequential-seed v2 is invisible.
      const v2 = state.alive.filter((i) => i.appVersion === 'v2');
      return v2.length > 0 ? [`${at}: reverting 006-instance-strategy drops the dual-write strategy the live gate reads from ${v2.length} alive v2 instance${v2.length === 1 ? '' : 's'} (${v2.map((i) => i.instanceId).join(', ')}): stop every v2 first`] : [];
    }
    case '005-rollout-log':
      return pastBackfill ? [`${at}: reverting 005-rollout-log drops the rollout log the gates read (when new-only ended): ${rollBack}`] : [];
    case '004-verify-results':
      return pastBackfill ? [`${at}: reverting 004-verify-results drops the verify history the gates read: ${rollBack}`] : [];
    case '003-backfill-checkpoint': {
      const running = state.backfill?.unfinished;
      return [
        ...(pastBackfill ? [`${at}: reverting 003-backfill-checkpoint drops the backfill history the gates read: ${rollBack}`] : []),
        ...(running?.recentlyUpdated ? [`${at}: backfill run #${running.id} is running (${running.owner}): stop it first (SIGINT), or wait for it`] : []),
      ];
    }
    case '002-expand': {
      const v2 = state.alive.filter((i) => i.appVersion === 'v2');
      if (v2.length > 0) {
        return [`${at}: reverting 002-expand drops ${columns.new}, which ${v2.length} alive v2 instance${v2.length === 1 ? '' : 's'} write${v2.length === 1 ? 's' : ''} (${v2.map((i) => i.instanceId).join(', ')}): stop every v2 first`];
      }
      return stage.name === 'expand' || stage.name === 'base' ? [] : [`${at}: reverting 002-expand drops ${columns.new} and the flags: ${rollBack.replace('backfill or earlier', 'expand')}`];
    }
    case '001-base':
      return state.usersEmpty ? [] : [`${at}: reverting 001-base drops users (it holds rows) and the instance registry: it is the schema v1 was built for, not a rollout step; refused while users has rows`];
    default:
      return [];
  }
}
