// The checker in session mode (reads from a replica with consistency tokens): a read is judged against its own
// session (one load connection), and staleness that only real time across sessions shows is information.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { FIELDS, HistoryBuilder, value } from '../load/histories.ts';

const S = { process: 1 };
const T = { process: 2 };
const U = { process: 3 };
const seeded = [{ key: '1', value: value('u1-seed') }];

/** The history: two overlapping writes X (T) and Y (U), then session S reads X, then Y. */
function overlappingWritesSeenInOrder() {
  const h = new HistoryBuilder();
  h.write(1, 'X', 0, 10, 'ok', T);
  h.write(1, 'Y', 1, 9, 'ok', U);
  h.read(1, 'X', 11, 12, S);
  h.read(1, 'Y', 13, 14, S);
  return h;
}

describe('checker, consistency session', () => {
  it('When a session reads an older value after its own newer write completed, then it is a stale read (read-your-writes broken)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', S);
    h.write(1, 'u1-w2', 2, 3, 'ok', S);
    const stale = h.read(1, 'u1-w1', 4, 5, S);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.byKind.stale).toBe(1);
    expect(verdict.anomalies).toBe(1);
    expect(verdict.examples.stale[0]!.ops[0]!.opId).toBe(stale.id);
    expect(verdict.crossSession).toMatchObject({ reads: 0 });
  });

  it('When a session reads an older value after ANOTHER session wrote, then it is no anomaly but cross-session information', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', S);
    h.write(1, 'u1-w2', 2, 3, 'ok', T);
    const late = h.read(1, 'u1-w1', 4, 5, S);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession!.reads).toBe(1);
    expect(verdict.crossSession!.byKind.stale).toBe(1);
    expect(verdict.crossSession!.examples[0]!.ops[0]!.opId).toBe(late.id);
    // The same history is not linearizable: the default mode still flags it.
    expect(check({ fields: FIELDS, ops: h.ops }).byKind.stale).toBe(1);
  });

  it('When a session reads a value, then an older one (ordered by the writes themselves), then it is a non-monotonic read', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', T);
    h.read(1, 'u1-w2', 4, 5, S);
    const back = h.read(1, 'u1-w1', 6, 7, S);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.byKind.nonMonotonic).toBe(1);
    expect(verdict.anomalies).toBe(1);
    expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
  });

  it('When a session reads the older value after another session already read the newer one, then nothing is anomalous in session mode', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', T);
    h.read(1, 'u1-w2', 4, 5, T);
    const late = h.read(1, 'u1-w1', 6, 7, S);
    h.read(1, 'u1-w2', 8, 9, S);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession!.examples.map((e) => e.ops[0]!.opId)).toContain(late.id);
  });

  it('When a session created a user and its read finds no such user, then it is an anomaly (missing after its own write)', () => {
    const h = new HistoryBuilder();
    h.create(5, 'u5-w1', 0, 1, 'ok', S);
    h.read(5, null, 2, 3, S);
    h.read(5, null, 2, 3, T);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(1);
    expect(verdict.byKind.garbage).toBe(1);
    expect(verdict.crossSession!.reads).toBe(1);
  });

  it('When another session read late and the final read returns the latest write, then the final read is not blamed', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', T);
    h.read(1, 'u1-w2', 4, 5, S);
    h.read(1, 'u1-w1', 6, 7, S);
    const final = [{ key: '1', value: { name: 'u1-w2', email: 'u1-w2@example.test' }, at: 100 }];

    const verdict = check({ fields: FIELDS, ops: h.ops, final, consistency: 'session' });

    expect(verdict.examples.lost).toEqual([]);
    expect(verdict.byKind.nonMonotonic).toBe(1);
    expect(verdict.anomalies).toBe(1);
  });

  it('When an acknowledged write is not visible in the final read and nothing superseded it, then it is a lost write', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', S);
    const final = [{ key: '1', value: { name: 'u1-w1', email: 'u1-w1@example.test' }, at: 100 }];

    const verdict = check({ fields: FIELDS, ops: h.ops, final, consistency: 'session' });

    expect(verdict.byKind.lost).toBe(1);
    expect(verdict.anomalies).toBe(1);
  });

  describe('a session going back in time when writes overlap', () => {
    it('When a session read X then Y (overlapping writes) and the final read returns X, then the final read is an anomaly', () => {
      const h = overlappingWritesSeenInOrder();
      const final = [{ key: '1', value: value('X'), at: 100 }];

      const verdict = check({ fields: FIELDS, ops: h.ops, initial: seeded, final, consistency: 'session' });

      expect(check({ fields: FIELDS, ops: h.ops, initial: seeded, final }).anomalies).toBe(2);
      expect(verdict.anomalies).toBe(1);
      expect(verdict.byKind.nonMonotonic).toBe(1);
      expect(verdict.examples.nonMonotonic[0]!.ops[0]).toMatchObject({ f: 'final read', step: 'final' });
      expect(verdict.perStep.final!.anomalies).toBe(1);
    });

    it('When a session read X then Y and the final read returns Y, then nothing is anomalous (the writes overlapped)', () => {
      const h = overlappingWritesSeenInOrder();
      const final = [{ key: '1', value: value('Y'), at: 100 }];

      expect(check({ fields: FIELDS, ops: h.ops, initial: seeded, final, consistency: 'session' }).anomalies).toBe(0);
    });

    it('When a session reads X, then Y, then X again, then the third read is non-monotonic', () => {
      const h = overlappingWritesSeenInOrder();
      const back = h.read(1, 'X', 15, 16, S);

      const verdict = check({ fields: FIELDS, ops: h.ops, initial: seeded, consistency: 'session' });

      expect(verdict.anomalies).toBe(1);
      expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
    });

    it('When two sessions see two overlapping writes in opposite orders, then one of them is non-monotonic (there is one primary order)', () => {
      const h = new HistoryBuilder();
      h.write(1, 'X', 0, 10, 'ok', T);
      h.write(1, 'Y', 1, 9, 'ok', U);
      h.read(1, 'X', 11, 12, S);
      h.read(1, 'Y', 13, 14, S);
      h.read(1, 'Y', 11, 12, { process: 4 });
      h.read(1, 'X', 13, 14, { process: 4 });

      const verdict = check({ fields: FIELDS, ops: h.ops, initial: seeded, consistency: 'session' });

      expect(verdict.anomalies).toBe(1);
      expect(verdict.byKind.nonMonotonic).toBe(1);
    });

    it('When a session wrote X, read the overlapping Y, then read X again, then the last read is non-monotonic', () => {
      const h = new HistoryBuilder();
      h.write(1, 'X', 0, 10, 'ok', S);
      h.write(1, 'Y', 1, 9, 'ok', T);
      h.read(1, 'Y', 11, 12, S);
      const back = h.read(1, 'X', 13, 14, S);

      const verdict = check({ fields: FIELDS, ops: h.ops, initial: seeded, consistency: 'session' });

      expect(verdict.anomalies).toBe(1);
      expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
    });

    it('When a read of another session shows X was in effect before Y began, then a session reading Y then X goes back in time', () => {
      const h = new HistoryBuilder();
      h.write(1, 'X', 0, 30, 'ok', T);
      h.read(1, 'X', 2, 3, U);
      h.write(1, 'Y', 5, 6, 'ok', U);
      h.read(1, 'Y', 10, 11, S);
      const back = h.read(1, 'X', 12, 13, S);

      const verdict = check({ fields: FIELDS, ops: h.ops, initial: seeded, consistency: 'session' });

      expect(verdict.anomalies).toBe(1);
      expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
    });
  });

  it('When an external write (outside the load client) shares a connection number with a session, then it is no write of that session', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-external', 2, 3, 'ok', { process: S.process, external: 'cross-version check' });
    const late = h.read(1, 'u1-w1', 4, 5, S);

    const verdict = check({ fields: FIELDS, ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession!.examples.map((e) => e.ops[0]!.opId)).toEqual([late.id]);
    // Without the mark it is the session's own write, and the read breaks read-your-writes.
    const own = h.ops.map((op) => ({ ...op, external: undefined }));
    expect(check({ fields: FIELDS, ops: own, consistency: 'session' }).byKind.stale).toBe(1);
  });
});
