// The checker on the operations where dual-write and dual-read break first (issue #19): DELETE is a write of
// "absent" (the row's one delete, distinct from the absence before it was created), and a PATCHed row is judged
// one field at a time (each write or patch writes the fields it names). Each anomaly an app can produce with
// them is found; correct interleavings (a read racing a delete, patches of different fields) are not flagged.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import type { CheckInput } from '../../load/proof/checker/index.ts';
import { FIELDS, HistoryBuilder, value } from './histories.ts';

const input = (h: HistoryBuilder, extra: Partial<CheckInput> = {}): CheckInput => ({ fields: FIELDS, ops: h.ops, ...extra });
const kinds = (verdict: ReturnType<typeof check>) => Object.fromEntries(Object.entries(verdict.byKind).filter(([, n]) => n > 0));

describe('DELETE in the checker', () => {
  it('When a read after a completed delete finds nothing, and the final read finds nothing, then there is no anomaly', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.read(1, 'a', 11, 12);
    h.delete(1, 20, 30);
    h.read(1, null, 31, 32);
    expect(kinds(check(input(h, { final: [] })))).toEqual({});
    expect(check(input(h)).anomalies).toBe(0);
  });

  it('When a read overlaps the delete, then either answer is legal', () => {
    for (const seen of ['a', null]) {
      const h = new HistoryBuilder();
      h.create(1, 'a', 0, 10);
      h.delete(1, 20, 30);
      h.read(1, seen, 25, 35);
      expect(check(input(h)).anomalies, `read returned ${seen}`).toBe(0);
    }
  });

  it('When a read after a completed delete returns the row again (resurrected, e.g. by an upsert repair), then it is stale, naming the delete', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.delete(1, 20, 30);
    h.read(1, 'a', 40, 41);
    const verdict = check(input(h));
    expect(kinds(verdict)).toEqual({ stale: 1 });
    expect(verdict.examples.stale[0]).toMatchObject({ key: '1', reason: 'returned a value after its row had been deleted (resurrected)' });
    expect(verdict.examples.stale[0]!.message).toContain('delete #2');
  });

  it('When the final read finds a row whose delete completed, then the delete is lost', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.delete(1, 20, 30);
    const verdict = check(input(h, { final: [{ key: '1', value: value('a'), at: 100 }] }));
    expect(kinds(verdict)).toEqual({ lost: 1 });
    expect(verdict.examples.lost[0]!.reason).toBe('the row was deleted, but the final read found it again (resurrected)');
  });

  it('When a row is not found before its delete was even invoked, then that is missing data, not the delete', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.read(1, null, 11, 12);
    h.delete(1, 20, 30);
    expect(kinds(check(input(h)))).toEqual({ garbage: 1 });
  });

  it('When a PUT racing a delete is answered 404, then it counts as an observation of the deleted row, not as a failed request', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.delete(1, 20, 30);
    h.write(1, 'b', 25, 35, 'fail', { status: 404 });
    const verdict = check(input(h));
    expect(verdict).toMatchObject({ anomalies: 0, failedRequests: 0, reads: 1, acknowledgedWrites: 2 });
  });

  it('When a PUT is answered 404 though its row was never deleted, then that is missing data', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.write(1, 'b', 25, 35, 'fail', { status: 404 });
    expect(kinds(check(input(h)))).toEqual({ garbage: 1 });
  });

  it('When a delete has an unknown outcome, then both a later value and a later 404 are legal', () => {
    for (const seen of ['a', null]) {
      const h = new HistoryBuilder();
      h.create(1, 'a', 0, 10);
      h.delete(1, 20, null, 'info');
      h.read(1, seen, 40, 41);
      expect(check(input(h)).anomalies, `read returned ${seen}`).toBe(0);
    }
  });

  it('When a row is deleted twice, then the checker says it cannot judge that history (the load deletes a row once)', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.delete(1, 20, 30);
    h.delete(1, 40, 50);
    expect(() => check(input(h))).toThrow(/deleted twice/);
  });
});

describe('PATCH in the checker', () => {
  it('When patches of different fields interleave, then a read of both patched fields is legal (not "mixed fields")', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.patch(1, { name: 'p1' }, 20, 30);
    h.patch(1, { email: 'p2@example.test' }, 25, 35);
    h.read(1, { name: 'p1', email: 'p2@example.test' }, 40, 41);
    h.read(1, { name: 'p1', email: 'p2@example.test' }, 50, 51);
    expect(check(input(h, { final: [{ key: '1', value: { name: 'p1', email: 'p2@example.test' }, at: 100 }] })).anomalies).toBe(0);
  });

  it('When a patch updated only the new column, so that a later read still shows the old field, then that field is stale', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.patch(1, { email: 'p1@example.test' }, 20, 30);
    h.read(1, 'a', 40, 41);
    const verdict = check(input(h));
    expect(kinds(verdict)).toEqual({ stale: 1 });
    expect(verdict.examples.stale[0]).toMatchObject({ key: '1', field: 'email' });
    expect(verdict.examples.stale[0]!.message).toMatch(/^field email: /);
  });

  it('When one patch is lost to a concurrent one (read-merge-write without a compare-and-set), then the final read shows it lost', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.patch(1, { name: 'p1' }, 20, 30);
    h.patch(1, { email: 'p2@example.test' }, 21, 31);
    // The second patch merged into the row it read before the first landed: name went back to 'a'.
    const verdict = check(input(h, { final: [{ key: '1', value: { name: 'a', email: 'p2@example.test' }, at: 100 }] }));
    expect(kinds(verdict)).toEqual({ lost: 1 });
    expect(verdict.examples.lost[0]).toMatchObject({ field: 'name' });
  });

  it('When a patched row is deleted, then every field is judged against the delete', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.patch(1, { name: 'p1' }, 20, 30);
    h.delete(1, 40, 50);
    h.read(1, { name: 'p1', email: 'a@example.test' }, 60, 61);
    const verdict = check(input(h));
    // One stale read per field: the read shows each field after the delete.
    expect(kinds(verdict)).toEqual({ stale: 2 });
  });

  it('When a PATCH is answered 404 after the delete, then it is an observation of the deleted row, not an anomaly', () => {
    const h = new HistoryBuilder();
    h.create(1, 'a', 0, 10);
    h.delete(1, 20, 30);
    h.patch(1, { name: 'p1' }, 40, 41, 'fail', { status: 404 });
    expect(check(input(h, { final: [] })).anomalies).toBe(0);
  });
});
