// The rollout's stages, in order, each mapped to the expand/contract checklist, and the stage the system is in, derived
// from the facts (state.ts): the highest stage whose mark is present. Flags mark the stages a flag makes
// (dual-read, read shift, live, new-only); the registry, checkpoints and migrations mark the others.
import { CONTRACT_MIGRATION, EXPAND_MIGRATION } from './state.ts';
import type { FlagValues } from '../flags/registry.ts';
import type { RolloutState } from './state.ts';
import { columns } from '../schema-mapping.ts';

export const STAGES = ['base', 'expand', 'dual-write', 'dual-read', 'backfill', 'read-shift', 'live', 'new-only', 'contracted'] as const;

/**
 * The README step (0-11, one file each in load/rollout/steps/) that brings the system into each stage, so that
 * `rollout status`, the demo, the dashboard and the guide speak one numbering (steps 3, 5 and 7 change no stage).
 */
export const STAGE_STEP: Readonly<Record<StageName, number>> = { base: 0, expand: 1, 'dual-write': 2, 'dual-read': 4, backfill: 6, 'read-shift': 8, live: 9, 'new-only': 10, contracted: 11 };
export type StageName = (typeof STAGES)[number];

export const STAGE_MEANING: Record<StageName, string> = {
  base: 'v1 on the base schema',
  expand: `${columns.new} exists (002-expand); no v2 alive yet`,
  'dual-write': `v2 alive, writing old columns and ${columns.new}`,
  'dual-read': `v2 compares ${columns.new} with the old columns on every read (flag dual-read)`,
  backfill: `the backfill has run (or runs): ${columns.new} filled from the old columns`,
  'read-shift': `reads sent to ${columns.new} for N% of users, verified against the old columns`,
  live: `every read trusts ${columns.new} (no comparison); v2 still dual-writes`,
  'new-only': `v2 reads and writes only ${columns.new}`,
  contracted: `${columns.oldAnd} dropped (099-contract)`,
};

/** The steps `advance` takes through read-shift (rollback walks them down, then to 0). */
export const READ_SHIFT_STEPS = [1, 10, 50, 100] as const;

export interface Stage {
  name: StageName;
  /** read-new-percent, for read-shift. */
  percent?: number;
  /** As shown and logged: "read-shift 25%". */
  label: string;
}

export function stageOf(name: StageName, percent?: number): Stage {
  return { name, ...(percent === undefined ? {} : { percent }), label: name === 'read-shift' ? `read-shift ${percent}%` : name };
}

/**
 * The stage the flags alone make, from the read shift on (null: earlier, which other facts decide). A running
 * instance judges its stage guard with this on every flag change (shared/rollout/stage-guard.ts).
 */
export function flagStage(flags: FlagValues | undefined, { contracted }: { contracted: boolean }): Stage | null {
  if (contracted) return stageOf('contracted');
  if (flags?.['write-mode'] === 'new-only') return stageOf('new-only');
  if (flags?.['read-trust-new']) return stageOf('live');
  if (flags && flags['read-new-percent'] > 0) return stageOf('read-shift', flags['read-new-percent']);
  return null;
}

export function deriveStage(state: RolloutState): Stage {
  const flags = state.flags?.values;
  const byFlags = flagStage(flags, { contracted: state.migrations.includes(CONTRACT_MIGRATION) });
  if (byFlags) return byFlags;
  if (state.backfill && (state.backfill.unfinished?.direction === 'forward' || state.backfill.forwardDone)) return stageOf('backfill');
  if (flags?.['dual-read']) return stageOf('dual-read');
  if (state.alive.some((i) => i.appVersion === 'v2')) return stageOf('dual-write');
  if (state.migrations.includes(EXPAND_MIGRATION)) return stageOf('expand');
  return stageOf('base');
}
