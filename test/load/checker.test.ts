// The checker on hand-written histories: each anomaly kind is flagged with the right kind (and only it), and
// histories that are correct despite overlapping writes, unknown outcomes and failed writes are not flagged.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { formatVerdict } from '../../load/proof/checker/format.ts';
import type { AnomalyKind, CheckInput, Verdict } from '../../load/proof/checker/index.ts';
import { FIELDS, HistoryBuilder, value } from './histories.ts';

const only = (verdict: Verdict, kind: AnomalyKind, count = 1) => {
  expect(verdict.byKind).toEqual({ stale: 0, nonMonotonic: 0, garbage: 0, lost: 0, newAheadOfOld: 0, phantom: 0, [kind]: count });
  expect(verdict.anomalies).toBe(count);
};

describe('stale reads', () => {
  it('When a read returns w1 after w2 (invoked after w1 completed) completed, then it is one stale read naming both writes', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    const w2 = h.write(1, 'u1-w2', 2, 3, 'ok', { version: 'v2', instance: 'v2-a' });
    const stale = h.read(1, 'u1-w1', 4, 5, { version: 'v1', instance: 'v1-a', step: 'dual-write' });
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'stale');
    const [example] = verdict.examples.stale;
    expect(example!.reason).toMatch(/newer write had completed/);
    expect(example!.step).toBe('dual-write');
    expect(example!.ops[0]).toMatchObject({ role: 'anomalous', opId: stale.id, version: 'v1', instance: 'v1-a', value: value('u1-w1') });
    expect(example!.ops.map((o) => o.opId)).toContain(w2.id);
    expect(verdict.perStep['dual-write']!.byKind.stale).toBe(1);
  });

  it('When the newer write is still in flight as the read begins, then returning the older value is not stale', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 10);
    h.read(1, 'u1-w1', 4, 5);
    h.read(1, 'u1-w2', 11, 12);
    expect(check({ fields: FIELDS, ops: h.ops }).anomalies).toBe(0);
  });

  it('When a seeded user is read with its old value after an acknowledged write, then it is stale', () => {
    const h = new HistoryBuilder();
    h.write(7, 'u7-w1', 1, 2);
    h.read(7, 'seed-7', 3, 4);
    only(check({ fields: FIELDS, ops: h.ops, initial: [{ key: '7', value: value('seed-7') }] }), 'stale');
  });
});

describe('blame: which read of a contradiction is flagged', () => {
  it('When a correct read overlaps a stale one, then only the stale one is flagged', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 3);
    h.read(1, 'u1-w2', 4, 10);
    const stale = h.read(1, 'u1-w1', 5, 6);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'stale');
    expect(verdict.examples.stale[0]!.ops[0]!.opId).toBe(stale.id);
  });

  it('When a read goes back to a value after a slow write was seen, then only the read that goes back is flagged', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 100);
    h.read(1, 'u1-w1', 3, 4);
    h.read(1, 'u1-w2', 5, 6);
    const back = h.read(1, 'u1-w1', 7, 8);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'nonMonotonic');
    expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
  });

  it('When a 404 follows an acknowledged create, then only the 404 is flagged, not the correct read after it', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    const missing = h.read(1, null, 2, 3);
    h.read(1, 'u1-w1', 4, 5);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'garbage');
    expect(verdict.examples.garbage[0]!.ops[0]!.opId).toBe(missing.id);
  });

  it('When two overlapping writes both completed and later reads disagree on which came last, then they are flagged stale', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w0', 0, 1);
    h.write(1, 'u1-w1', 2, 12, 'ok', { process: 1 });
    h.write(1, 'u1-w2', 2, 5, 'ok', { process: 2 });
    h.read(1, 'u1-w1', 7, 22);
    h.read(1, 'u1-w2', 13, 14);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    expect(verdict.anomalies).toBeGreaterThan(0);
    expect(verdict.anomalies).toBe(verdict.byKind.stale);
    expect(verdict.examples.stale[0]!.reason).toMatch(/overlapping writes/);
  });
});

describe('non-monotonic reads', () => {
  it('When a read returns w1 after an earlier completed read returned w2 (w2 still in flight), then it is non-monotonic, not stale', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 100);
    h.read(1, 'u1-w2', 3, 4);
    const back = h.read(1, 'u1-w1', 5, 6);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'nonMonotonic');
    expect(verdict.examples.nonMonotonic[0]!.ops[0]!.opId).toBe(back.id);
  });

  it('When a user was seen and a later read returns 404 while the create is still unanswered, then it is non-monotonic', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 50);
    h.read(1, 'u1-w1', 2, 3);
    h.read(1, null, 4, 5);
    only(check({ fields: FIELDS, ops: h.ops }), 'nonMonotonic');
  });
});

describe('garbage reads', () => {
  const cases: Array<[string, (h: HistoryBuilder) => void, RegExp]> = [
    ['name of one write and email of another', (h) => h.read(1, { name: 'u1-w1', email: 'u1-w2@example.test' }, 5, 6), /mixed fields/],
    ['an empty field', (h) => h.read(1, { name: '', email: 'u1-w2@example.test' }, 5, 6), /empty or absent field/],
    ['an absent field', (h) => h.read(1, { name: 'u1-w2' } as never, 5, 6), /empty or absent field/],
    ['a 404 after the create completed', (h) => h.read(1, null, 5, 6), /missing data/],
    ["another user's value", (h) => h.read(1, 'u2-w1', 5, 6), /another user's value/],
    ['a value no write produced', (h) => h.read(1, 'never-written', 5, 6), /a value no write produced/],
  ];
  for (const [label, addRead, reason] of cases) {
    it(`When a read returns ${label}, then it is one garbage read`, () => {
      const h = new HistoryBuilder();
      h.create(1, 'u1-w1', 0, 1);
      h.write(1, 'u1-w2', 2, 3);
      h.create(2, 'u2-w1', 0, 1);
      addRead(h);
      const verdict = check({ fields: FIELDS, ops: h.ops });
      only(verdict, 'garbage');
      expect(verdict.examples.garbage[0]!.reason).toMatch(reason);
    });
  }

  it('When a read returns the value of a write invoked after the read completed, then it is garbage', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.read(1, 'u1-w2', 2, 3);
    h.write(1, 'u1-w2', 4, 5);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'garbage');
    expect(verdict.examples.garbage[0]!.reason).toMatch(/invoked after the read completed/);
  });

  it('When a read returns the value of a write answered 400, then it is garbage (a failed write had no effect)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 3, 'fail', { status: 400 });
    h.read(1, 'u1-w2', 4, 5);
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'garbage');
    expect(verdict.examples.garbage[0]!.reason).toMatch(/failed write/);
  });

  it('When a PUT is answered 404 after the create completed, then it is garbage (missing data)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 3, 'fail', { status: 404, version: 'v1' });
    const verdict = check({ fields: FIELDS, ops: h.ops });
    only(verdict, 'garbage');
    expect(verdict.examples.garbage[0]!.ops[0]).toMatchObject({ f: 'write answered 404', version: 'v1' });
  });
});

describe('lost writes', () => {
  it('When the final read shows w1 though w2 was acknowledged after w1 completed, then w2 is lost', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    const w2 = h.write(1, 'u1-w2', 2, 3);
    const verdict = check({ fields: FIELDS, ops: h.ops, final: [{ key: '1', value: value('u1-w1'), at: 10 }] });
    only(verdict, 'lost');
    expect(verdict.examples.lost[0]!.step).toBe('final');
    expect(verdict.examples.lost[0]!.ops.map((o) => o.opId)).toContain(w2.id);
  });

  it('When the final read finds no row for an acknowledged create, then the create is lost', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.create(2, 'u2-w1', 0, 1);
    only(check({ fields: FIELDS, ops: h.ops, final: [{ key: '2', value: value('u2-w1'), at: 10 }] }), 'lost');
  });

  it('When an acknowledged write is superseded by a later one, then not seeing it at the end is not lost', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 3);
    h.write(1, 'u1-w3', 4, 5);
    expect(check({ fields: FIELDS, ops: h.ops, final: [{ key: '1', value: value('u1-w3'), at: 10 }] }).anomalies).toBe(0);
  });
});

describe('correct histories are not flagged', () => {
  it('When two writes overlap, then readers may see them in either order as long as they agree afterwards', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, 10, 'ok', { process: 1 });
    h.write(1, 'u1-w3', 3, 9, 'ok', { process: 2 });
    h.read(1, 'u1-w3', 4, 5);
    h.read(1, 'u1-w2', 6, 7);
    h.read(1, 'u1-w2', 11, 12);
    const input: CheckInput = { fields: FIELDS, ops: h.ops, final: [{ key: '1', value: value('u1-w2'), at: 20 }] };
    expect(check(input).anomalies).toBe(0);
  });

  it('When writes have unknown outcomes, then they may show up late or never', () => {
    const h = new HistoryBuilder();
    h.create(1, 'u1-w1', 0, 1);
    h.write(1, 'u1-w2', 2, null, 'info', { error: 'ECONNRESET' });
    h.write(1, 'u1-w3', 3, null, 'info', { error: '503' });
    h.read(1, 'u1-w1', 20, 21);
    h.read(1, 'u1-w2', 30, 31);
    h.write(1, 'u1-w4', 40, 41, 'fail', { status: 400 });
    const verdict = check({ fields: FIELDS, ops: h.ops, final: [{ key: '1', value: value('u1-w2'), at: 50 }] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.unknownOutcomes).toBe(2);
    // The client saw all three fail: two without an answer, one refused.
    expect(verdict.failedRequests).toBe(3);
  });

  it('When requests fail, then the verdict names each (kind, user, step, answer or client error) and its printed form shows them', () => {
    const h = new HistoryBuilder();
    h.create(7, 'u7-w1', 0, 1);
    h.write(7, 'u7-w2', 2, 3, 'info', { status: 503, error: 'lease_lost', version: 'v1', instance: 'v1-a' });
    h.write(7, 'u7-w3', 4, null, 'info', { error: 'timeout' });
    h.write(7, 'u7-w4', 4.5, 4.9, 'fail', { status: 400, error: 'invalid_body', version: 'v2', instance: 'v2-a' });
    h.read(7, 'u7-w1', 5, 6);
    const verdict = check({ fields: FIELDS, ops: h.ops, final: [{ key: '7', value: value('u7-w1'), at: 50 }] });
    expect(verdict.failedRequests).toBe(3);
    expect(verdict.failedExamples).toHaveLength(3);
    expect(verdict.failedExamples[0]).toMatch(/^write #\d+ of user 7 in \S+ \[2\.0–\? ms, v1 v1-a, unknown outcome\]: HTTP 503 lease_lost$/);
    expect(verdict.failedExamples[1]).toMatch(/^write #\d+ of user 7 in \S+ \[4\.0–\? ms, unknown outcome\]: no answer \(timeout\)$/);
    expect(verdict.failedExamples[2]).toMatch(/^write #\d+ of user 7 in \S+ \[4\.5–4\.9 ms, 0 ms, v2 v2-a\]: HTTP 400 invalid_body$/);
    expect(formatVerdict(verdict)).toContain(`  failed: ${verdict.failedExamples[0]}`);
  });

  it('When a create went unanswered and its row shows up in the final read, then the row is attributed to it, not flagged', () => {
    const h = new HistoryBuilder();
    h.create(null, 'p0-w1', 0, null, 'info', { error: 'ECONNRESET' });
    h.create(1, 'u1-w1', 0, 1);
    const verdict = check({ fields: FIELDS, ops: h.ops, final: [{ key: '1', value: value('u1-w1'), at: 10 }, { key: '2', value: value('p0-w1'), at: 10 }] });
    expect(verdict.anomalies).toBe(0);
    expect(verdict.users).toBe(2);
    expect(verdict.byKind.phantom).toBe(0);
  });

  it('When reads and writes race across many users, then the counts add up and nothing is flagged', () => {
    const h = new HistoryBuilder();
    for (let user = 1; user <= 50; user++) {
      h.create(user, `u${user}-w0`, user, user + 1, 'ok', { version: 'v1' });
      for (let k = 1; k <= 5; k++) {
        h.write(user, `u${user}-w${k}`, 10 * k + user, 10 * k + user + 15, 'ok', { version: 'v2' });
        h.read(user, `u${user}-w${k}`, 10 * k + user + 16, 10 * k + user + 17, { version: k % 2 ? 'v1' : 'v2', readSource: 'old' });
      }
    }
    const verdict = check({ fields: FIELDS, ops: h.ops });
    expect(verdict).toMatchObject({ anomalies: 0, users: 50, acknowledgedWrites: 300, reads: 250, versionsSeen: ['v1', 'v2'] });
  });
});

describe('scale', () => {
  it('When a history has 100k operations, then it is judged in well under a few seconds of CPU', () => {
    const h = new HistoryBuilder();
    let t = 0;
    for (let user = 1; user <= 1000; user++) h.create(user, `u${user}-w0`, t, ++t);
    for (let i = 0; i < 33_000; i++) {
      const user = (i % 1000) + 1;
      h.write(user, `u${user}-w${i + 1}`, t, t + 5);
      h.read(user, `u${user}-w${i + 1}`, t + 6, t + 7);
      h.read(user, i % 2 ? `u${user}-w${i + 1}` : null, t + 8, t + 9, { process: 3 });
      t += 10;
    }
    // CPU time of this process, not wall time: other work on a shared machine does not count against it. About
    // 1 s here; the bound leaves a machine three times slower room, and catches a quadratic slip (minutes).
    const started = process.cpuUsage();
    const verdict = check({ fields: FIELDS, ops: h.ops });
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1000).toBeLessThan(5000);
    expect(verdict.operations).toBe(100_000);
    expect(verdict.byKind.garbage).toBe(16_500);
  });
});

describe('string keys', () => {
  /** Row a: a read returns w1 after w2 completed (stale), then w3; row b: the final read shows w1 though w2 came after it (lost). */
  const judged = (a: string, b: string) => {
    const h = new HistoryBuilder();
    h.create(a, 'a-w1', 0, 1);
    h.write(a, 'a-w2', 2, 3);
    h.read(a, 'a-w1', 4, 5);
    h.write(a, 'a-w3', 6, 7);
    h.create(b, 'b-w1', 0, 1);
    h.write(b, 'b-w2', 2, 3);
    return check({ fields: FIELDS, ops: h.ops, final: [{ key: a, value: value('a-w3'), at: 10 }, { key: b, value: value('b-w1'), at: 10 }] });
  };

  it('When keys are UUID strings, then the checker finds a stale read and a lost write exactly as with integer keys', () => {
    const [a, b] = ['3f2c8a4e-1b7d-4c5e-9a0f-6d2e8b1c7a53', 'c91e07d2-58af-4b3c-8e16-0f4a9d2b6e71'];
    const withUuids = judged(a, b);
    const withIntegers = judged('1', '2');

    expect(withUuids.byKind).toEqual({ stale: 1, nonMonotonic: 0, garbage: 0, lost: 1, newAheadOfOld: 0, phantom: 0 });
    expect(withUuids.byKind).toEqual(withIntegers.byKind);
    expect(withUuids.users).toBe(2);
    expect(withUuids.examples.stale[0]).toMatchObject({ key: a, message: expect.stringContaining(a) });
    expect(withUuids.examples.lost[0]).toMatchObject({ key: b, message: expect.stringContaining(b) });
  });
});
