// Walking a test database through the rollout in-process, exactly as the commands do (backfill, verify, the
// gated transitions), so a test starts at the stage it is about.
import { runBackfill } from '../../shared/backfill/backfill.ts';
import type { BackfillDirection } from '../../shared/backfill/batch-statements.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import type { Database } from '../../shared/db/connection.ts';
import { databaseNow, parseDbTime } from '../../shared/db/time.ts';
import { deriveStage } from '../../shared/rollout/stages.ts';
import { readRolloutState } from '../../shared/rollout/state.ts';
import { transition } from '../../shared/rollout/transitions.ts';
import type { TransitionResult } from '../../shared/rollout/transitions.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { waitFor } from '../support/instances.ts';
import type { WriteMode } from '../../shared/flags/registry.ts';

export const backfill = (db: Database, direction: BackfillDirection = 'forward') => runBackfill(db, { direction }, { controls: fixedControls(), progress: silentProgress() });
export const verify = (db: Database, mode: WriteMode = 'dual') => runVerify(db, { mode, owner: 'test' });
export const stageLabel = async (db: Database) => deriveStage(await readRolloutState(db)).label;

export async function step(db: Database, action: 'advance' | 'rollback', options: { percent?: number; waitTimeoutMs?: number } = {}): Promise<TransitionResult> {
  return transition(db, action, { actor: 'test', waitTimeoutMs: 10_000, ...options });
}

/** The database clock, in milliseconds (what the gates compare). */
export async function clock(db: Database): Promise<number> {
  return parseDbTime(await databaseNow(db));
}

/** Waits until the database clock has moved past this moment (the windows compare milliseconds). */
export async function clockPasses(db: Database, moment: number): Promise<void> {
  await waitFor(async () => ((await clock(db)) > moment + 1 ? true : undefined), { what: 'the database clock to move on' });
}

/**
 * From a seeded table: backfill, verify, then advance (reads straight to 100%) until `label`. The verify starts
 * once the database clock has moved past the backfill's end: the gate counts only a verify that started after it,
 * and in one process both can fall in the same millisecond (which the gate, rightly, cannot order).
 */
export async function walkTo(db: Database, label: 'read-shift 100%' | 'live' | 'new-only'): Promise<void> {
  await backfill(db);
  await clockPasses(db, await clock(db));
  await verify(db);
  for (let guard = 0; (await stageLabel(db)) !== label; guard++) {
    const result = await step(db, 'advance', (await stageLabel(db)) === 'backfill' ? { percent: 100 } : {});
    if (result.outcome !== 'completed' || guard > 5) throw new Error(`could not reach ${label}: ${JSON.stringify(result)}`);
  }
}
