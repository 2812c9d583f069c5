// The fast checker flags a one-user history if and only if the brute-force linearizability search rejects it, on
// many small generated histories: overlapping operations and ties, acknowledged, unknown-outcome and failed
// writes, PUTs answered 404, and reads returning current, stale, future, failed-write, mixed, empty and missing
// values. Histories come from a simulated legal execution, some of whose observations are then corrupted, so
// that both answers are common.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bruteForceLinearizable } from '../../load/proof/checker/brute-force.ts';
import { check } from '../../load/proof/checker/index.ts';
import type { Op, Outcome, RecordValue } from '../../load/proof/history.ts';
import { corruptedValue, FIELDS } from './histories.ts';
import type { ValueCorruption } from './histories.ts';

const USER = '1';
const SEED: RecordValue = { name: 'seed', email: 'seed@example.test' };
const valueOf = (tag: string): RecordValue => ({ name: tag, email: `${tag}@example.test` });

type Corruption = ValueCorruption | null;

const interval = { start: fc.integer({ min: 0, max: 20 }), length: fc.integer({ min: 0, max: 8 }), at: fc.integer({ min: 0, max: 4 }) };
const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('other', 'other', 'absent', 'mixed', 'empty', 'seed'), pick: fc.nat(), pick2: fc.nat() }) },
);
const historyArbitrary = fc.record({
  seeded: fc.boolean(),
  // Compact histories squeeze every time into 0..5: ties and fully overlapping operations become common.
  compact: fc.boolean(),
  writes: fc.array(
    fc.record({ ...interval, outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'info', 'info', 'fail'), lands: fc.boolean(), late: fc.integer({ min: 0, max: 12 }) }),
    { minLength: 1, maxLength: 4 },
  ),
  reads: fc.array(fc.record({ ...interval, corruption, asPut: fc.boolean() }), { maxLength: 7 }),
  final: fc.option(corruption, { nil: undefined }),
});
type Generated = typeof historyArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** Builds the history: a legal execution (each effective operation at a point of its interval), then corruptions. */
function build(generated: Generated): { fields: readonly string[]; ops: Op[]; initial: RecordValue | null; final: RecordValue | null | undefined } {
  const initial = generated.seeded ? SEED : null;
  const scale = (t: number) => (generated.compact ? Math.floor(t / 4) : t);
  const ops: Op[] = [];
  let id = 1;
  const effects: Array<{ point: number; value: RecordValue }> = [];
  const written: RecordValue[] = [];
  generated.writes.forEach((generatedWrite, i) => {
    const w = { ...generatedWrite, start: scale(generatedWrite.start), length: scale(generatedWrite.length), late: scale(generatedWrite.late) };
    const tag = `w${i}`;
    written.push(valueOf(tag));
    const end = w.start + w.length;
    const f = i === 0 && !generated.seeded ? 'create' : 'write';
    ops.push({ id: id++, process: i, f, key: USER, value: valueOf(tag), invokeAt: w.start, completeAt: w.outcome === 'info' ? null : end, outcome: w.outcome, step: 'load', status: w.outcome === 'fail' ? 400 : 200 });
    if (w.outcome === 'ok') effects.push({ point: w.start + (w.length * w.at) / 4, value: valueOf(tag) });
    if (w.outcome === 'info' && w.lands) effects.push({ point: w.start + ((w.length + w.late) * w.at) / 4, value: valueOf(tag) });
  });
  effects.sort((a, b) => a.point - b.point);
  // A write and a read at the same point: the write first (either order is a legal execution).
  const valueAt = (point: number) => effects.filter((e) => e.point <= point).at(-1)?.value ?? initial;
  const corrupt = (legal: RecordValue | null, c: Corruption): RecordValue | null => corruptedValue(legal, c, written, SEED);
  generated.reads.forEach((generatedRead, i) => {
    const r = { ...generatedRead, start: scale(generatedRead.start), length: scale(generatedRead.length) };
    const end = r.start + r.length;
    const returned = corrupt(valueAt(r.start + (r.length * r.at) / 4), r.corruption);
    if (!returned && r.asPut) {
      ops.push({ id: id++, process: 10 + i, f: 'write', key: USER, value: valueOf(`put-${i}`), invokeAt: r.start, completeAt: end, outcome: 'fail', status: 404, step: 'load' });
    } else {
      ops.push({ id: id++, process: 10 + i, f: 'read', key: USER, ...(returned ? { value: returned } : {}), invokeAt: r.start, completeAt: end, outcome: 'ok', status: returned ? 200 : 404, step: 'load' });
    }
  });
  const final = generated.final === undefined ? undefined : corrupt(valueAt(Infinity), generated.final);
  return { fields: FIELDS, ops, initial, final };
}

function fastCheckerFlags({ ops, initial, final }: ReturnType<typeof build>): boolean {
  const verdict = check({
    fields: FIELDS,
    ops,
    initial: initial ? [{ key: USER, value: initial }] : [],
    final: final === undefined ? [] : [{ key: USER, value: final, at: 0 }],
  });
  return verdict.anomalies > 0;
}

describe('fast checker against the brute-force search', () => {
  it('When thousands of small one-user histories are judged, then the checker flags exactly those the brute force rejects', () => {
    let flagged = 0;
    let runs = 0;
    fc.assert(
      fc.property(historyArbitrary, (generated) => {
        const history = build(generated);
        const rejected = !bruteForceLinearizable(history);
        runs++;
        if (rejected) flagged++;
        expect(fastCheckerFlags(history)).toBe(rejected);
      }),
      { numRuns: 4000, seed: 20240611 },
    );
    // Both answers must be common, or the property proves little.
    expect(flagged / runs).toBeGreaterThan(0.2);
    expect(flagged / runs).toBeLessThan(0.8);
  });

  it('When histories are generated with random seeds, then the checker still agrees with the brute force', () => {
    fc.assert(
      fc.property(historyArbitrary, (generated) => {
        const history = build(generated);
        expect(fastCheckerFlags(history)).toBe(!bruteForceLinearizable(history));
      }),
      { numRuns: 1500 },
    );
  });

  it('When a history is generated from a legal execution without corruption, then the brute force accepts it', () => {
    fc.assert(
      fc.property(historyArbitrary, (generated) => {
        const clean = { ...generated, reads: generated.reads.map((r) => ({ ...r, corruption: null })), final: generated.final === undefined ? undefined : null };
        expect(bruteForceLinearizable(build(clean))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
