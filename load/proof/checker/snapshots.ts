// Database snapshots at step boundaries, judged row by row. While v1 may still serve, a row must never hold a
// later write in the new column than in the old columns (v1 reads the old columns: it would serve older data than
// v2 already acknowledged), nor old columns empty while the new column is set. Old columns ahead of, or merely
// different from, the new column is drift: expected while writes race, repaired by the backfill, verified before
// the read shift, so it is counted but is not a safety violation. A value that no write produced is garbage.
// The runner hands every row in the history's shape (the new column already read back through the mapping): the
// checker parses no column.
import { describeMember, memberRef } from './register.ts';
import type { RegisterWrite, UserRegister } from './register.ts';
import type { AnomalyExample, DriftExample, OpRef, Snapshot } from './types.ts';
import type { Observed, WriteIndex } from './values.ts';

export interface SnapshotVerdict {
  anomalies: AnomalyExample[];
  drift: DriftExample[];
}

/** Judges every row of every snapshot whose user the history knows (registers holds each user's effective writes). */
export function checkSnapshots(snapshots: Snapshot[], registers: Map<string, UserRegister>, index: WriteIndex): SnapshotVerdict {
  const verdict: SnapshotVerdict = { anomalies: [], drift: [] };
  const { values } = index;
  for (const snapshot of snapshots) {
    for (const row of snapshot.rows) {
      const user = registers.get(row.key);
      if (!user) continue;
      const writes = new Map<string, RegisterWrite>([user.initial, ...user.writes].map((w) => [w.key, w]));
      const columnRef = (column: string, value: Observed): OpRef => ({ role: `row ${row.key} ${column}`, opId: null, f: 'snapshot', value: values.shown(value), invokeAt: snapshot.takenAt, completeAt: snapshot.takenAt, step: snapshot.step });
      const garbage = (column: string, value: Observed, reason: string, witnesses: OpRef[] = []) =>
        verdict.anomalies.push({
          kind: 'garbage',
          reason,
          message: `user ${row.key}: snapshot at ${snapshot.step}: ${column} holds ${values.describe(value)}: ${reason}`,
          key: row.key,
          step: snapshot.step,
          ops: [columnRef(column, value), ...witnesses],
        });

      /** The write that produced a column's value, or null after reporting garbage. */
      const producedBy = (column: string, value: Observed): RegisterWrite | null => {
        if (values.hasEmptyField(value!)) {
          garbage(column, value, 'empty or absent field');
          return null;
        }
        const write = writes.get(values.key(value));
        if (!write) {
          const { reason, witnesses } = index.explain(value, row.key);
          garbage(column, value, reason, witnesses.map((op) => memberRef({ role: 'write of the parts seen', member: { type: 'write', op, key: '', value: op.value, invokeAt: op.invokeAt, completeAt: op.completeAt ?? Infinity } }, values)));
          return null;
        }
        if (write.invokeAt > snapshot.takenAt) {
          garbage(column, value, 'value of a write invoked after the snapshot was taken', [memberRef({ role: 'future write', member: write }, values)]);
          return null;
        }
        return write;
      };

      const old = values.oldColumns(row.old);
      const oldWrite = old ? producedBy('old columns', old) : null;
      if (typeof row.new === 'string') {
        garbage('new column', null, row.new);
        continue;
      }
      const fromNew: Observed = row.new;
      const newWrite = fromNew ? producedBy('new column', fromNew) : null;
      if ((old && !oldWrite) || !newWrite) continue;
      if (!oldWrite) {
        if (snapshot.v1MayBeAlive) {
          verdict.anomalies.push({
            kind: 'newAheadOfOld',
            reason: 'old columns empty while the new column is set',
            message: `user ${row.key}: snapshot at ${snapshot.step}: old columns empty while the new column holds ${describeMember(newWrite, values)}, and v1 may still serve this row`,
            key: row.key,
            step: snapshot.step,
            ops: [columnRef('new column', fromNew), memberRef({ role: 'write in the new column', member: newWrite }, values)],
          });
        }
        continue;
      }
      if (oldWrite === newWrite) continue;
      // Ahead only by real-time order: the old columns' write completed before the new column's write was invoked.
      if (snapshot.v1MayBeAlive && oldWrite.completeAt < newWrite.invokeAt) {
        verdict.anomalies.push({
          kind: 'newAheadOfOld',
          reason: 'the new column holds a later write than the old columns',
          message: `user ${row.key}: snapshot at ${snapshot.step}: the new column holds ${describeMember(newWrite, values)}, but the old columns still hold ${describeMember(oldWrite, values)}, which completed before it, and v1 may still serve this row`,
          key: row.key,
          step: snapshot.step,
          ops: [columnRef('new column', fromNew), memberRef({ role: 'write in the new column', member: newWrite }, values), memberRef({ role: 'write in the old columns', member: oldWrite }, values)],
        });
      } else {
        verdict.drift.push({
          key: row.key,
          step: snapshot.step,
          takenAt: snapshot.takenAt,
          old: values.shown(old),
          new: values.shown(fromNew),
          message: `user ${row.key}: snapshot at ${snapshot.step}: old columns ${values.describe(old)} differ from the new column ${values.describe(fromNew)}`,
        });
      }
    }
  }
  return verdict;
}
