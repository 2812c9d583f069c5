// The checker judges a history whose values are not name/email: the field list is data in the history (written
// by the runners from the mapping's old columns), so an orders table with street/postcode/city is judged like
// users. A hand-written history, read back from its JSONL file as the check CLI reads it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import type { Snapshot } from '../../load/proof/checker/index.ts';
import { formatVerdict } from '../../load/proof/checker/format.ts';
import { HistoryRecorder, readHistory } from '../../load/proof/history.ts';
import type { RecordValue } from '../../load/proof/history.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checker-fields-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

const FIELDS = ['street', 'postcode', 'city'] as const;
const address = (tag: string): RecordValue => ({ street: `${tag} Main Street`, postcode: tag, city: `${tag}ville` });

/** Order 1 created with o1-w1, then moved to o1-w2; a read afterwards returns `readBack`. As the JSONL file holds it. */
async function orderHistory(readBack: string) {
  let clock = 0;
  const file = path.join(dir, `history-${++files}.jsonl`);
  const recorder = new HistoryRecorder({ fields: FIELDS, file, clock: () => ++clock });
  const create = recorder.invoke({ process: 0, f: 'create', key: null, value: address('o1-w1') });
  recorder.complete(create, { outcome: 'ok', status: 201, key: '1' });
  const write = recorder.invoke({ process: 0, f: 'write', key: '1', value: address('o1-w2') });
  recorder.complete(write, { outcome: 'ok', status: 200 });
  const read = recorder.invoke({ process: 1, f: 'read', key: '1' });
  recorder.complete(read, { outcome: 'ok', status: 200, value: address(readBack), version: 'v1' });
  await recorder.close();
  return { history: readHistory(file), at: clock };
}

describe('a history whose fields are street, postcode and city', () => {
  it('When the file is read back, then it names its fields and the checker judges a read of the new address clean', async () => {
    const { history } = await orderHistory('o1-w2');
    expect(history.fields).toEqual(FIELDS);
    const verdict = check(history);
    expect(verdict.anomalies).toBe(0);
    expect(verdict.acknowledgedWrites).toBe(2);
  });

  it('When a read returns the old address after the move completed, then it is one stale read that names the fields\' values', async () => {
    const { history } = await orderHistory('o1-w1');
    const verdict = check(history);
    expect(verdict.byKind).toEqual({ stale: 1, nonMonotonic: 0, garbage: 0, lost: 0, newAheadOfOld: 0, phantom: 0 });
    const [stale] = verdict.examples.stale;
    expect(stale!.ops[0]).toMatchObject({ role: 'anomalous', value: address('o1-w1') });
    expect(stale!.message).toContain('("o1-w1 Main Street", "o1-w1", "o1-w1ville")');
  });

  it('When a read mixes the street of one write with the city of another, then it is garbage naming both writes', async () => {
    const { history } = await orderHistory('o1-w2');
    const read = history.ops.at(-1)!;
    read.value = { ...address('o1-w2'), street: address('o1-w1').street! };
    const verdict = check(history);
    expect(verdict.byKind.garbage).toBe(1);
    expect(verdict.examples.garbage[0]!.reason).toBe('mixed fields of two writes');
    expect(verdict.examples.garbage[0]!.ops.map((op) => op.opId)).toEqual([read.id, 1, 2]);
  });

  it('When snapshots hold the address in the old columns and as the new column read back, then new ahead of old and drift are judged on these fields', async () => {
    const { history, at } = await orderHistory('o1-w2');
    const snapshot = (old: string | null, next: string | null, v1MayBeAlive: boolean): Snapshot => ({
      step: v1MayBeAlive ? 'dual-write' : 'read-shift',
      takenAt: at + 1,
      v1MayBeAlive,
      rows: [{ key: '1', old: old === null ? null : address(old), new: next === null ? null : address(next) }],
    });
    const ahead = check({ ...history, snapshots: [snapshot('o1-w1', 'o1-w2', true)] });
    expect(ahead.byKind.newAheadOfOld).toBe(1);
    expect(ahead.anomalies).toBe(1);
    const drift = check({ ...history, snapshots: [snapshot('o1-w2', 'o1-w1', true)] });
    expect(drift.anomalies).toBe(0);
    expect(drift.drift).toBe(1);
    expect(drift.driftExamples[0]).toMatchObject({ old: address('o1-w2'), new: address('o1-w1') });
    expect(formatVerdict(drift)).not.toContain('profile_data');
  });

  it('When the new column could not be read back through the mapping, then the row is garbage with the runner\'s reason', async () => {
    const { history, at } = await orderHistory('o1-w2');
    const verdict = check({ ...history, snapshots: [{ step: 'dual-write', takenAt: at + 1, v1MayBeAlive: true, rows: [{ key: '1', old: address('o1-w2'), new: 'not valid JSON' }] }] });
    expect(verdict.byKind.garbage).toBe(1);
    expect(verdict.examples.garbage[0]!.reason).toBe('not valid JSON');
  });
});
