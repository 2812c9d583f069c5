// `rollout advance` and `rollout rollback`: move one stage. First wait until every alive instance has loaded
// the current flag set (so the gate judges a settled fleet), then evaluate the gate (gates.ts) on fresh facts,
// refuse with its reasons, or write the stage's flags and wait until every alive instance has loaded them.
// Only then is the transition complete. Every outcome is logged (events.ts).
// The sync triggers follow the stage (sync.ts): those the target stage needs are installed before its flags are
// written (under SYNC=app, "up" on the way into live: a v1 write still in flight in an instance frozen past its
// stage guard then reaches profile_data, which reads are about to trust), and those it does not need are dropped
// once the fleet has left the stage that needed them.
import type { Database } from '../db/connection.ts';
import { FlagSetMoved, writeFlags } from '../flags/store.ts';
import type { InstanceRow } from '../registry/instances.ts';
import { rolloutEvents } from './events.ts';
import type { TransitionOutcome } from './events.ts';
import { describeLagging, waitForFleet } from './flag-propagation.ts';
import type { FleetProgress } from './flag-propagation.ts';
import { planAdvance, planRollback } from './gates.ts';
import type { Plan } from './gates.ts';
import type { Stage } from './stages.ts';
import { readRolloutState } from './state.ts';
import type { RolloutState } from './state.ts';
import { dropSyncTriggers, installSyncTriggers, SYNC_DIRECTIONS } from '../sync/triggers.ts';
import { syncDirectionsIn } from './sync.ts';

export interface TransitionOptions {
  percent?: number;
  /** How long to wait for every alive instance to load a flag-set version. */
  waitTimeoutMs?: number;
  actor: string;
  /** Where each wait for the fleet stands (fleetWaitReporter prints it). */
  onProgress?: (progress: FleetProgress) => void;
}

export type TransitionResult =
  | { outcome: 'completed'; from: Stage; to: Stage; version: number; waitedMs: number }
  | { outcome: 'refused'; from: Stage; to: Stage | null; reasons: string[] }
  | { outcome: 'manual'; from: Stage; command: string }
  | { outcome: 'timed-out'; from: Stage; to: Stage; version: number; lagging: InstanceRow[] };

export async function transition(db: Database, action: 'advance' | 'rollback', options: TransitionOptions): Promise<TransitionResult> {
  const { waitTimeoutMs, actor, onProgress } = options;
  const events = rolloutEvents(db);
  const log = (from: Stage, to: Stage | null, outcome: TransitionOutcome, extra: { changes?: object; version?: number; detail?: string } = {}) =>
    events.record({
      action,
      fromStage: from.label,
      toStage: to?.label ?? null,
      changes: extra.changes ? JSON.stringify(extra.changes) : null,
      flagSetVersion: extra.version ?? null,
      outcome,
      detail: extra.detail ?? null,
      actor,
    });

  let state = await readRolloutState(db);
  if (state.flags) {
    const settled = await waitForFleet(db, state.flags.version, { timeoutMs: waitTimeoutMs, ...(onProgress ? { onProgress } : {}) });
    if (!settled.ok) {
      const plan = planFor(action, state, options);
      const reasons = [`not every alive instance has loaded the current flag-set version ${state.flags.version}: ${describeLagging(settled.lagging, state.flags.version)}`];
      await log(plan.from, null, 'refused', { detail: reasons.join('; ') });
      return { outcome: 'refused', from: plan.from, to: null, reasons };
    }
    state = await readRolloutState(db);
  }
  const plan = planFor(action, state, options);
  if (plan.kind === 'manual') return { outcome: 'manual', from: plan.from, command: plan.command };
  if (plan.kind === 'refused') {
    await log(plan.from, plan.to, 'refused', { detail: plan.reasons.join('; ') });
    return { outcome: 'refused', from: plan.from, to: plan.to, reasons: plan.reasons };
  }
  const wanted = state.sync ? syncDirectionsIn(state.sync.mode, plan.to.name) : [];
  const missing = wanted.filter((direction) => state.sync!.triggers[direction] !== 'installed');
  if (missing.length > 0) await installSyncTriggers(db, missing);
  let version: number;
  try {
    // Compare-and-set on the version the gate judged: a concurrent advance/rollback/flags set makes this one
    // refuse instead of landing on top of a state nobody checked.
    version = await writeFlags(db, plan.changes, actor, state.flags ? { expectVersion: state.flags.version } : {});
  } catch (err) {
    if (!(err instanceof FlagSetMoved)) throw err;
    const reasons = [`${err.message}; nothing was written: run the command again to judge the new state`];
    await log(plan.from, plan.to, 'refused', { detail: reasons.join('; ') });
    return { outcome: 'refused', from: plan.from, to: plan.to, reasons };
  }
  const waited = await waitForFleet(db, version, { timeoutMs: waitTimeoutMs, ...(onProgress ? { onProgress } : {}) });
  if (!waited.ok) {
    await log(plan.from, plan.to, 'timed-out', { changes: plan.changes, version, detail: describeLagging(waited.lagging, version) });
    return { outcome: 'timed-out', from: plan.from, to: plan.to, version, lagging: waited.lagging };
  }
  await log(plan.from, plan.to, 'completed', { changes: plan.changes, version });
  const unneeded = SYNC_DIRECTIONS.filter((direction) => !wanted.includes(direction) && state.sync && state.sync.triggers[direction] !== 'absent');
  if (unneeded.length > 0) await dropSyncTriggers(db, unneeded);
  return { outcome: 'completed', from: plan.from, to: plan.to, version, waitedMs: waited.waitedMs };
}

function planFor(action: 'advance' | 'rollback', state: RolloutState, { percent }: TransitionOptions): Plan {
  return action === 'advance' ? planAdvance(state, { percent }) : planRollback(state, { percent });
}
