// Snapshots at step boundaries: the new column ahead of the old columns while v1 may serve is an anomaly; old
// columns ahead of (or merely different from) the new column is drift; a column value no write produced is garbage.
// Rows come as the runner hands them (load/run/table-snapshots.ts): the new column already read back as a value.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import type { Snapshot, SnapshotRow } from '../../load/proof/checker/index.ts';
import { DRIFT_MEANING, formatVerdict } from '../../load/proof/checker/format.ts';
import { FIELDS, HistoryBuilder, value } from './histories.ts';

const row = (key: number, old: string | null, fromNew: SnapshotRow['new']): SnapshotRow => ({ key: String(key), old: old === null ? null : value(old), new: fromNew });
/** The new column holding `tag`'s value, as read back through the mapping. */
const json = (tag: string) => value(tag);
const snapshot = (rows: SnapshotRow[], { v1MayBeAlive = true, takenAt = 100, step = 'dual-write' } = {}): Snapshot => ({ step, takenAt, v1MayBeAlive, rows });

/** User 1: created with w1 at 0–1, then w2 at 2–3, then w3 and w4 overlapping at 4–10 and 5–9. */
function history() {
  const h = new HistoryBuilder();
  h.create(1, 'u1-w1', 0, 1);
  h.write(1, 'u1-w2', 2, 3);
  h.write(1, 'u1-w3', 4, 10);
  h.write(1, 'u1-w4', 5, 9);
  h.write(1, 'u1-w5', 200, 201);
  return h.ops;
}

describe('new ahead of old vs drift', () => {
  it('When the verdict counts drift, then it says beside the count why drift is not an anomaly (and says nothing when there is none)', () => {
    const drifted = formatVerdict(check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w1', json('u1-w2'))], { v1MayBeAlive: false, step: 'read-shift' })] }));
    const clean = formatVerdict(check({ fields: FIELDS, ops: history() }));
    expect(drifted).toMatch(/ 1 {2}drift \(old columns differ from the new column; not an anomaly\)\n {11}drift: rows whose two copies differed/);
    for (const line of DRIFT_MEANING) expect(drifted).toContain(line);
    expect(clean).not.toContain(DRIFT_MEANING[0]);
  });

  it('When the new column holds a write that began after the write in the old columns completed, while v1 may serve, then it is new ahead of old', () => {
    const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w1', json('u1-w2'))])] });
    expect(verdict.byKind).toMatchObject({ newAheadOfOld: 1, garbage: 0 });
    expect(verdict.anomalies).toBe(1);
    expect(verdict.drift).toBe(0);
    expect(verdict.examples.newAheadOfOld[0]).toMatchObject({ key: '1', step: 'dual-write' });
    expect(verdict.perStep['dual-write']!.byKind.newAheadOfOld).toBe(1);
  });

  it('When the same row is seen after v1 is gone, then it is drift, not an anomaly', () => {
    const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w1', json('u1-w2'))], { v1MayBeAlive: false, step: 'read-shift' })] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.drift).toBe(1);
    expect(verdict.perStep['read-shift']!.drift).toBe(1);
  });

  it('When the old columns are ahead of the new column, then it is drift, not an anomaly', () => {
    const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w2', json('u1-w1'))])] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.drift).toBe(1);
    expect(verdict.driftExamples[0]!.message).toMatch(/differ/);
  });

  it('When the two columns hold two overlapping writes, then neither is ahead: drift, not an anomaly', () => {
    const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w3', json('u1-w4'))])] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.drift).toBe(1);
  });

  it('When the old columns are empty while the new column is set, then it is new ahead of old only while v1 may serve', () => {
    const alive = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, null, json('u1-w2'))])] });
    expect(alive.byKind.newAheadOfOld).toBe(1);
    const contracted = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, null, json('u1-w2'))], { v1MayBeAlive: false, step: 'contract' })] });
    expect(contracted.anomalies).toBe(0);
    expect(contracted.drift).toBe(0);
  });

  it('When the new column read back lists the fields in another order, then it equals the same value in the old columns', () => {
    const object = { email: value('u1-w2').email!, name: value('u1-w2').name! };
    const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([row(1, 'u1-w2', object)]), snapshot([row(1, 'u1-w2', value('u1-w2'))], { step: 'backfill' })] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.drift).toBe(0);
    expect(verdict.snapshotsChecked).toBe(2);
  });
});

describe('garbage in snapshots', () => {
  const cases: Array<[string, SnapshotRow, RegExp]> = [
    ['a new column mixing the fields of two writes', row(1, 'u1-w2', { name: 'u1-w1', email: value('u1-w2').email! }), /mixed fields/],
    ['old columns with one field empty', { key: '1', old: { name: null, email: value('u1-w2').email! }, new: null }, /empty or absent field/],
    ['a new column the runner could not read back (its reason is the finding\'s)', row(1, 'u1-w2', 'not valid JSON'), /^not valid JSON$/],
    ['a new column missing a field', row(1, 'u1-w2', { name: 'u1-w2' }), /empty or absent field/],
    ['the value of a write invoked after the snapshot', row(1, 'u1-w5', null), /invoked after the snapshot/],
  ];
  for (const [label, snapshotRow, reason] of cases) {
    it(`When a row holds ${label}, then it is garbage`, () => {
      const verdict = check({ fields: FIELDS, ops: history(), snapshots: [snapshot([snapshotRow])] });
      expect(verdict.byKind.garbage).toBe(1);
      expect(verdict.anomalies).toBe(1);
      expect(verdict.examples.garbage[0]!.reason).toMatch(reason);
    });
  }

});

describe('phantom rows: rows nobody wrote', () => {
  /** A POST answered 201 with id 7. */
  function created7() {
    const h = new HistoryBuilder();
    h.create(7, 'u7-w1', 0, 1);
    return h;
  }
  const rows7and8 = [row(7, 'u7-w1', json('u7-w1')), row(8, 'u8-w1', json('u8-w1'))];

  it('When a POST was answered 201 with id 7 and row 8 also appears in a snapshot, then row 8 is a phantom write', () => {
    const verdict = check({ fields: FIELDS, ops: created7().ops, snapshots: [snapshot(rows7and8, { step: 'dual-write' }), snapshot(rows7and8, { step: 'backfill', takenAt: 200 })] });

    expect(verdict.byKind.phantom).toBe(1);
    expect(verdict.anomalies).toBe(1);
    expect(verdict.examples.phantom[0]).toMatchObject({ key: '8', step: 'dual-write', reason: expect.stringMatching(/no operation/) });
    expect(verdict.perStep['dual-write']!.byKind.phantom).toBe(1);
  });

  it('When row 8 shows up only in the final read, then it is a phantom write of the final step', () => {
    const final = [{ key: '7', value: value('u7-w1'), at: 10 }, { key: '8', value: value('u8-w1'), at: 10 }];
    const verdict = check({ fields: FIELDS, ops: created7().ops, final });

    expect(verdict.byKind.phantom).toBe(1);
    expect(verdict.examples.phantom[0]).toMatchObject({ key: '8', step: 'final' });
  });

  it('When an external write (outside the load client) made row 8, then the row is explained and nothing is flagged', () => {
    const h = created7();
    h.create(8, 'u8-w1', 2, 3, 'ok', { external: 'cross-version check', process: -1 });

    const verdict = check({ fields: FIELDS, ops: h.ops, snapshots: [snapshot(rows7and8)], final: [{ key: '7', value: value('u7-w1'), at: 10 }, { key: '8', value: value('u8-w1'), at: 10 }] });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.users).toBe(2);
  });

  it('When an unanswered create wrote the value of an unknown row, then the row is the create\'s and not a phantom', () => {
    const h = created7();
    h.create(null, 'p3-w1', 2, null, 'info', { error: 'ECONNRESET' });

    const verdict = check({ fields: FIELDS, ops: h.ops, snapshots: [snapshot([row(7, 'u7-w1', json('u7-w1')), row(8, 'p3-w1', json('p3-w1'))])] });

    expect(verdict.anomalies).toBe(0);
  });
});
