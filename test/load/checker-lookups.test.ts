// The checker on lookups (GET /users?email=, issue #19): a lookup made to find row T by the email last written to it.
// Each row it returns is a read of that row (judged like any read), a returned row whose email is not the one asked
// is garbage, and T missing from the answer is stale when the write of that email certainly took effect before the
// lookup began and nothing that changes T's email could have taken effect before it ended.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import type { CheckInput } from '../../load/proof/checker/index.ts';
import { parseHistory, HistoryRecorder } from '../../load/proof/history.ts';
import { FIELDS, HistoryBuilder, value } from './histories.ts';

const input = (h: HistoryBuilder, extra: Partial<CheckInput> = {}): CheckInput => ({ fields: FIELDS, ops: h.ops, ...extra });
const kinds = (verdict: ReturnType<typeof check>) => Object.fromEntries(Object.entries(verdict.byKind).filter(([, n]) => n > 0));
const email = (tag: string) => value(tag).email!;

describe('lookups in the checker', () => {
  it('When a lookup after a completed write finds the row with that value, then there is no anomaly, and it counts as a read', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'b', 20, 30);
    h.lookup(1, email('b'), [[1, 'b']], 40, 41);
    const verdict = check(input(h, { final: [{ key: '1', value: value('b'), at: 100 }] }));
    expect(verdict).toMatchObject({ anomalies: 0, reads: 1, acknowledgedWrites: 2 });
  });

  it('When the row is missing from the answer though the write of the asked email completed before the lookup began, then the lookup is stale (missed by the lookup)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'b', 20, 30);
    const missed = h.lookup(1, email('b'), [], 40, 41);
    const verdict = check(input(h));
    expect(kinds(verdict)).toEqual({ stale: 1 });
    expect(verdict.examples.stale[0]).toMatchObject({ key: '1', reason: 'missed by a lookup: the row was not in the answer, though the write of the value asked for took effect before the lookup began and nothing could have changed it since' });
    expect(verdict.examples.stale[0]!.ops.map((op) => [op.opId, op.f])).toEqual([[missed.id, 'lookup'], [2, 'write']]);
  });

  it('When the row is missing while another write of it overlaps the lookup, or the asked write was still under way, or had an unknown outcome, then nothing is flagged', () => {
    const racing = new HistoryBuilder();
    racing.create(1, 'a', 0, 10);
    racing.write(1, 'b', 20, 30);
    racing.write(1, 'c', 35, 50);
    racing.lookup(1, email('b'), [], 40, 41);
    expect(check(input(racing)).anomalies).toBe(0);

    const underWay = new HistoryBuilder();
    underWay.create(1, 'a', 0, 10);
    underWay.write(1, 'b', 20, 45);
    underWay.lookup(1, email('b'), [], 40, 41);
    expect(check(input(underWay)).anomalies).toBe(0);

    const unknown = new HistoryBuilder();
    unknown.create(1, 'a', 0, 10);
    unknown.write(1, 'b', 20, null, 'info');
    unknown.lookup(1, email('b'), [], 40, 41);
    expect(check(input(unknown)).anomalies).toBe(0);

    // A write of unknown outcome invoked long before may take effect at any time: it may have changed the email.
    const olderUnknown = new HistoryBuilder();
    olderUnknown.create(1, 'a', 0, 10);
    olderUnknown.write(1, 'x', 12, null, 'info');
    olderUnknown.write(1, 'b', 20, 30);
    olderUnknown.lookup(1, email('b'), [], 40, 41);
    expect(check(input(olderUnknown)).anomalies).toBe(0);

    // A write overlapping the asked one may have been ordered after it.
    const overlapping = new HistoryBuilder();
    overlapping.create(1, 'a', 0, 10);
    overlapping.write(1, 'x', 15, 25);
    overlapping.write(1, 'b', 20, 30);
    overlapping.lookup(1, email('b'), [], 40, 41);
    expect(check(input(overlapping)).anomalies).toBe(0);
  });

  it('When the row is missing after a write that completed before the asked one began, then the older write cannot excuse it', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'x', 12, 15);
    h.write(1, 'b', 20, 30);
    h.lookup(1, email('b'), [], 40, 41);
    expect(kinds(check(input(h)))).toEqual({ stale: 1 });
  });

  it('When the row was deleted before the lookup ended, then missing it is legal', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'b', 20, 30);
    h.delete(1, 38, 39);
    h.lookup(1, email('b'), [], 40, 41);
    expect(check(input(h)).anomalies).toBe(0);
  });

  it('When a lookup returns the row with an older value (found by a value it no longer has), then it is garbage for the mismatch and stale as a read', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'b', 20, 30);
    h.lookup(1, email('b'), [[1, 'a']], 40, 41);
    const verdict = check(input(h));
    expect(kinds(verdict)).toEqual({ garbage: 1, stale: 1 });
    expect(verdict.examples.garbage[0]).toMatchObject({ key: '1', reason: 'found by a lookup for a value it does not hold' });
  });

  it('When a lookup returns another row with another email, then that row is garbage (found by a value it does not hold)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.create(2, 'z', 0, 10);
    h.write(1, 'b', 20, 30);
    h.lookup(1, email('b'), [[1, 'b'], [2, 'z']], 40, 41);
    const verdict = check(input(h));
    expect(kinds(verdict)).toEqual({ garbage: 1 });
    expect(verdict.examples.garbage[0]).toMatchObject({ key: '2' });
  });

  it('When a patched row is looked up by the email a PATCH set, then it is judged per field: found is fine, missed is stale in field email', () => {
    const found = new HistoryBuilder();
    found.create(1, 'a', 0, 10);
    found.patch(1, { email: 'p1@example.test' }, 20, 30);
    found.patch(1, { name: 'p2' }, 32, 34);
    found.lookup(1, 'p1@example.test', [[1, { name: 'p2', email: 'p1@example.test' }]], 40, 41);
    expect(check(input(found)).anomalies).toBe(0);

    const missed = new HistoryBuilder();
    missed.create(1, 'a', 0, 10);
    missed.patch(1, { email: 'p1@example.test' }, 20, 30);
    // A patch of the name only, racing the lookup: it does not change the email.
    missed.patch(1, { name: 'p2' }, 35, 50);
    missed.lookup(1, 'p1@example.test', [], 40, 41);
    const verdict = check(input(missed));
    expect(kinds(verdict)).toEqual({ stale: 1 });
    expect(verdict.examples.stale[0]).toMatchObject({ key: '1', field: 'email' });
  });

  it('When a lookup got no answer, then it is a failed request and judges nothing', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.lookup(1, email('a'), [], 40, 41, 'fail', { status: 503 });
    expect(check(input(h))).toMatchObject({ anomalies: 0, failedRequests: 1, reads: 0 });
  });

  it('When a lookup is recorded and read back from the history file, then its asked value and the rows it found survive', () => {
    const recorder = new HistoryRecorder({ fields: FIELDS, file: null });
    const lines: string[] = [];
    (recorder as unknown as { write: (event: Record<string, unknown>) => void }).write = (event) => lines.push(JSON.stringify(event));
    const op = recorder.invoke({ process: 0, f: 'lookup', key: '7', value: { email: 'x@example.test' } });
    recorder.complete(op, { outcome: 'ok', status: 200, found: [{ key: '7', value: value('x') }], truncated: false });
    const parsed = parseHistory([JSON.stringify({ type: 'fields', fields: FIELDS }), ...lines].join('\n'));
    expect(parsed.ops.at(-1)).toMatchObject({ f: 'lookup', key: '7', value: { email: 'x@example.test' }, outcome: 'ok', found: [{ key: '7', value: value('x') }] });
  });
});
