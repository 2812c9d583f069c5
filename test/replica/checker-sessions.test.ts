// The checker in session mode (reads from a replica with consistency tokens): a read is judged against its own
// session (one load connection), and staleness that only real time across sessions shows is information.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/checker/index.ts';
import { HistoryBuilder } from '../load/histories.ts';

const S = { process: 1 };
const T = { process: 2 };

describe('checker, consistency session', () => {
  it('When a session reads an older value after its own newer write completed, then it is a stale read (read-your-writes broken)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', S);
    h.write(1, 'u1-w2', 2, 3, 'ok', S);
    const stale = h.read(1, 'u1-w1', 4, 5, S);

    const verdict = check({ ops: h.ops, consistency: 'session' });

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

    const verdict = check({ ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession!.reads).toBe(1);
    expect(verdict.crossSession!.byKind.stale).toBe(1);
    expect(verdict.crossSession!.examples[0]!.ops[0]!.opId).toBe(late.id);
    // The same history is not linearizable: the default mode still flags it.
    expect(check({ ops: h.ops }).byKind.stale).toBe(1);
  });

  it('When a session reads a value, then an older one (ordered by the writes themselves), then it is a non-monotonic read', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', T);
    h.read(1, 'u1-w2', 4, 5, S);
    const back = h.read(1, 'u1-w1', 6, 7, S);

    const verdict = check({ ops: h.ops, consistency: 'session' });

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

    const verdict = check({ ops: h.ops, consistency: 'session' });

    expect(verdict.anomalies).toBe(0);
    expect(verdict.crossSession!.examples.map((e) => e.ops[0]!.opId)).toContain(late.id);
  });

  it('When a session created a user and its read finds no such user, then it is an anomaly (missing after its own write)', () => {
    const h = new HistoryBuilder();
    h.create(5, 'u5-w1', 0, 1, 'ok', S);
    h.read(5, null, 2, 3, S);
    h.read(5, null, 2, 3, T);

    const verdict = check({ ops: h.ops, consistency: 'session' });

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
    const final = [{ userId: 1, value: { name: 'u1-w2', email: 'u1-w2@example.test' }, at: 100 }];

    const verdict = check({ ops: h.ops, final, consistency: 'session' });

    expect(verdict.examples.lost).toEqual([]);
    expect(verdict.byKind.nonMonotonic).toBe(1);
    expect(verdict.anomalies).toBe(1);
  });

  it('When an acknowledged write is not visible in the final read and nothing superseded it, then it is a lost write', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1, 'ok', T);
    h.write(1, 'u1-w2', 2, 3, 'ok', S);
    const final = [{ userId: 1, value: { name: 'u1-w1', email: 'u1-w1@example.test' }, at: 100 }];

    const verdict = check({ ops: h.ops, final, consistency: 'session' });

    expect(verdict.byKind.lost).toBe(1);
    expect(verdict.anomalies).toBe(1);
  });
});
