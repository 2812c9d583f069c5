// The gate `npm run flags -- set` and PUT /admin/flags pass before writing: the stage flags (write-mode,
// read-trust-new) change only through `rollout advance/rollback` (which also wait for every instance), and
// read-new-percent may go up only once the read-shift gate holds, and not at all from live on. Lowering it
// before live stays the instant rollback it always was.
import type { Database } from '../db/connection.ts';
import type { FlagValues } from '../flags/registry.ts';
import { FlagSetMoved, writeFlags } from '../flags/store.ts';
import { flagChangeReasons } from './gates.ts';
import { readRolloutState } from './state.ts';

export type GatedWrite = { ok: true; version: number } | { ok: false; refusal: string };

/**
 * Judges the change against the rollout state and writes it with a compare-and-set on the flag-set version
 * it judged, so a change that lands in between (another operator, a rollout advance) makes this one refuse
 * rather than land on a state nobody checked.
 */
export async function gatedFlagWrite(db: Database, changes: Partial<FlagValues>, actor: string): Promise<GatedWrite> {
  const gated = 'write-mode' in changes || 'read-trust-new' in changes || 'read-new-percent' in changes;
  if (!gated) return { ok: true, version: await writeFlags(db, changes, actor) };
  const state = await readRolloutState(db);
  const reasons = flagChangeReasons(state, changes);
  if (reasons.length > 0) return { ok: false, refusal: reasons.join('; ') };
  try {
    return { ok: true, version: await writeFlags(db, changes, actor, state.flags ? { expectVersion: state.flags.version } : {}) };
  } catch (err) {
    if (err instanceof FlagSetMoved) return { ok: false, refusal: `${err.message}; nothing was written: try again` };
    throw err;
  }
}
