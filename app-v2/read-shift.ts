// Read shift (checklist: "Use a feature flag to gradually shift reads from old column to new column").
// The flag read-new-percent picks users, not requests: a user's bucket is a hash of the id, so raising the
// percentage only ever adds users to the new source, and one user never flips between sources from one
// request to the next. 0 sends every read back to the old columns at once: the instant rollback.
import { createHash } from 'node:crypto';
import type { Key } from '../shared/mapping-contract.ts';

export function readShiftBucket(userId: Key): number {
  return createHash('sha256').update(String(userId)).digest().readUInt32BE(0) % 100;
}

export function readsNewColumn(userId: Key, readNewPercent: number): boolean {
  if (readNewPercent <= 0) return false;
  if (readNewPercent >= 100) return true;
  return readShiftBucket(userId) < readNewPercent;
}
