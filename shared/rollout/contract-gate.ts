// The gate of the one destructive step (rollout step "contract"): dropping name and email is safe only when
// nothing reads or writes them any more and profile_data holds every row. From the records: stage new-only
// loaded by every alive instance, no v1 alive, a clean dual-mode verify since the last v1 stopped (gates.ts).
// Then, right before the drop, a fresh new-only verify: a row without a valid profile_data would be lost.
import type { Database } from '../db/connection.ts';
import type { VerifyRecord } from '../verify/results.ts';
import { runVerify } from '../verify/verify.ts';
import { contractReasons } from './gates.ts';
import { readRolloutState } from './state.ts';
import { columns } from '../schema-mapping.ts';

export type ContractCheck = { ok: true; verify: VerifyRecord } | { ok: false; reasons: string[] };

export async function checkContract(db: Database, { owner }: { owner: string }): Promise<ContractCheck> {
  const recorded = contractReasons(await readRolloutState(db));
  if (recorded.length > 0) return { ok: false, reasons: recorded };
  const verify = await runVerify(db, { mode: 'new-only', owner });
  if (verify.drift > 0) {
    const ids = verify.sample.map((s) => s.id).join(', ');
    return { ok: false, reasons: [`new-only verify #${verify.id} found ${verify.drift} rows without a valid ${columns.new} (e.g. ids ${ids}): dropping the old columns would lose them; npm run rollout -- rollback, then npm run backfill`] };
  }
  // Once more on fresh facts: the verify took time, and a v1 may have started meanwhile.
  const now = contractReasons(await readRolloutState(db));
  return now.length > 0 ? { ok: false, reasons: now } : { ok: true, verify };
}
