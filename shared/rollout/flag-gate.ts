// The gate `npm run flags -- set` and PUT /admin/flags pass before writing: the stage flags (write-mode,
// read-trust-new) change only through `rollout advance/rollback` (which also wait for every instance), and
// read-new-percent may go up only once the read-shift gate holds, and not at all from live on. Lowering it
// before live stays the instant rollback it always was.
import type { Database } from '../db/connection.ts';
import type { FlagValues } from '../flags/registry.ts';
import { flagChangeReasons } from './gates.ts';
import { readRolloutState } from './state.ts';

/** Why this change must not be written directly, or null when it may. */
export async function flagChangeRefusal(db: Database, changes: Partial<FlagValues>): Promise<string | null> {
  const gated = 'write-mode' in changes || 'read-trust-new' in changes || 'read-new-percent' in changes;
  if (!gated) return null;
  const reasons = flagChangeReasons(await readRolloutState(db), changes);
  return reasons.length > 0 ? reasons.join('; ') : null;
}
