// Database snapshots at step boundaries, judged row by row. While v1 may still serve, a row must never hold a
// later write in profile_data than in the old columns (v1 reads the old columns: it would serve older data than
// v2 already acknowledged), nor old columns empty while profile_data is set. Old columns ahead of, or merely
// different from, profile_data is drift: expected while writes race, repaired by the backfill, verified before
// the read shift, so it is counted but is not a safety violation. A value that no write produced is garbage.
import { describeMember, memberRef } from './register.ts';
import type { RegisterWrite, UserRegister } from './register.ts';
import type { AnomalyExample, DriftExample, OpRef, Snapshot } from './types.ts';
import { describeValue, hasEmptyField, normalizeProfileData, oldColumnsValue, shownValue, valueKey } from './values.ts';
import type { Observed, WriteIndex } from './values.ts';

export interface SnapshotVerdict {
  anomalies: AnomalyExample[];
  drift: DriftExample[];
}

/** Judges every row of every snapshot whose user the history knows (registers holds each user's effective writes). */
export function checkSnapshots(snapshots: Snapshot[], registers: Map<number, UserRegister>, index: WriteIndex): SnapshotVerdict {
  const verdict: SnapshotVerdict = { anomalies: [], drift: [] };
  for (const snapshot of snapshots) {
    for (const row of snapshot.rows) {
      const user = registers.get(row.id);
      if (!user) continue;
      const writes = new Map<string, RegisterWrite>([user.initial, ...user.writes].map((w) => [w.key, w]));
      const columnRef = (column: string, value: Observed): OpRef => ({ role: `row ${row.id} ${column}`, opId: null, f: 'snapshot', value: shownValue(value), invokeAt: snapshot.takenAt, completeAt: snapshot.takenAt, step: snapshot.step });
      const garbage = (column: string, value: Observed, reason: string, witnesses: OpRef[] = []) =>
        verdict.anomalies.push({
          kind: 'garbage',
          reason,
          message: `user ${row.id}: snapshot at ${snapshot.step}: ${column} holds ${describeValue(value)}: ${reason}`,
          userId: row.id,
          step: snapshot.step,
          ops: [columnRef(column, value), ...witnesses],
        });

      /** The write that produced a column's value, or null after reporting garbage. */
      const producedBy = (column: string, value: Observed): RegisterWrite | null => {
        if (hasEmptyField(value!)) {
          garbage(column, value, 'empty or absent field');
          return null;
        }
        const write = writes.get(valueKey(value));
        if (!write) {
          const { reason, witnesses } = index.explain(value, row.id);
          garbage(column, value, reason, witnesses.map((op) => memberRef({ role: 'write of the parts seen', member: { type: 'write', op, key: '', value: op.value, invokeAt: op.invokeAt, completeAt: op.completeAt ?? Infinity } })));
          return null;
        }
        if (write.invokeAt > snapshot.takenAt) {
          garbage(column, value, 'value of a write invoked after the snapshot was taken', [memberRef({ role: 'future write', member: write })]);
          return null;
        }
        return write;
      };

      const old = oldColumnsValue(row);
      const profile = normalizeProfileData(row.profileData);
      const oldWrite = old ? producedBy('old columns', old) : null;
      if ('invalid' in profile) {
        garbage('profile_data', null, profile.invalid);
        continue;
      }
      const newWrite = profile.value ? producedBy('profile_data', profile.value) : null;
      if ((old && !oldWrite) || !newWrite) continue;
      if (!oldWrite) {
        if (snapshot.v1MayBeAlive) {
          verdict.anomalies.push({
            kind: 'newAheadOfOld',
            reason: 'old columns empty while profile_data is set',
            message: `user ${row.id}: snapshot at ${snapshot.step}: old columns empty while profile_data holds ${describeMember(newWrite)}, and v1 may still serve this row`,
            userId: row.id,
            step: snapshot.step,
            ops: [columnRef('profile_data', profile.value), memberRef({ role: 'write in profile_data', member: newWrite })],
          });
        }
        continue;
      }
      if (oldWrite === newWrite) continue;
      // Ahead only by real-time order: the old columns' write completed before profile_data's write was invoked.
      if (snapshot.v1MayBeAlive && oldWrite.completeAt < newWrite.invokeAt) {
        verdict.anomalies.push({
          kind: 'newAheadOfOld',
          reason: 'profile_data holds a later write than the old columns',
          message: `user ${row.id}: snapshot at ${snapshot.step}: profile_data holds ${describeMember(newWrite)}, but the old columns still hold ${describeMember(oldWrite)}, which completed before it, and v1 may still serve this row`,
          userId: row.id,
          step: snapshot.step,
          ops: [columnRef('profile_data', profile.value), memberRef({ role: 'write in profile_data', member: newWrite }), memberRef({ role: 'write in the old columns', member: oldWrite })],
        });
      } else {
        verdict.drift.push({
          userId: row.id,
          step: snapshot.step,
          takenAt: snapshot.takenAt,
          old: shownValue(old),
          profileData: shownValue(profile.value),
          message: `user ${row.id}: snapshot at ${snapshot.step}: old columns ${describeValue(old)} differ from profile_data ${describeValue(profile.value)}`,
        });
      }
    }
  }
  return verdict;
}
