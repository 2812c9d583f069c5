// The history recorder: what each answer means for an operation's outcome, and the JSONL file read back as
// the same history (a run cut short leaves its pending writes as unknown outcomes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { HistoryRecorder, outcomeOfNoResponse, outcomeOfStatus, parseHistory, readHistory } from '../../load/proof/history.ts';
import type { RecordedHistory } from '../../load/proof/history.ts';
import { FIELDS, value } from './histories.ts';

const dirs: string[] = [];
const tempFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'history-test-'));
  dirs.push(dir);
  return path.join(dir, 'history.jsonl');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('outcomes', () => {
  it('When an answer comes, then 2xx is ok, a read 404 is an ok observation, other 4xx fail, and 5xx fail a read but leave a write unknown', () => {
    expect(outcomeOfStatus('create', 201)).toBe('ok');
    expect(outcomeOfStatus('read', 404, 'not_found')).toBe('ok');
    expect(outcomeOfStatus('read', 404, 'route_not_found')).toBe('fail');
    expect(outcomeOfStatus('write', 404)).toBe('fail');
    expect(outcomeOfStatus('write', 400)).toBe('fail');
    expect(outcomeOfStatus('read', 503)).toBe('fail');
    expect(outcomeOfStatus('write', 503)).toBe('info');
    expect(outcomeOfStatus('create', 502)).toBe('info');
  });

  it('When no answer comes, then a write that was sent is unknown, and anything never sent failed', () => {
    expect(outcomeOfNoResponse('write', { sent: true })).toBe('info');
    expect(outcomeOfNoResponse('create', { sent: false })).toBe('fail');
    expect(outcomeOfNoResponse('read', { sent: true })).toBe('fail');
  });
});

describe('recorder', () => {
  it('When operations are recorded across steps, then the file reads back as the same history', async () => {
    let clock = 0;
    const file = tempFile();
    const recorder = new HistoryRecorder({ fields: FIELDS, file, step: 'expand', clock: () => ++clock });
    recorder.recordInitial([{ key: '5', value: value('seed-5') }]);
    const create = recorder.invoke({ process: 0, f: 'create', key: null, value: value('p0-w1') });
    recorder.currentStep = 'dual-write';
    const read = recorder.invoke({ process: 1, f: 'read', key: '5' });
    recorder.complete(create, { outcome: 'ok', status: 201, key: '8', version: 'v1', instance: 'v1-a' });
    recorder.complete(read, { outcome: 'ok', status: 200, value: value('seed-5'), version: 'v2', instance: 'v2-a', readSource: 'old' });
    const retried = recorder.invoke({ process: 1, f: 'write', key: '8', value: value('u8-w2') });
    recorder.complete(retried, { outcome: 'info', error: 'ECONNRESET' });
    const retry = recorder.invoke({ process: 1, f: 'write', key: '8', value: value('u8-w3'), retryOf: retried.id });
    const unanswered = recorder.invoke({ process: 2, f: 'read', key: '8' });
    recorder.complete(retry, { outcome: 'ok', status: 200 });
    recorder.recordFinal([{ key: '8', value: value('u8-w3'), at: ++clock, version: 'v2' }]);
    expect(recorder.keys()).toEqual(['5', '8']);
    await recorder.close();

    const history = readHistory(file);
    expect(history.fields).toEqual(['name', 'email']);
    expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe('{"type":"fields","fields":["name","email"]}');
    expect(history.ops).toEqual(recorder.ops);
    expect(history.initial).toEqual(recorder.initial);
    expect(history.final).toEqual(recorder.final);
    expect(history.steps.map((s) => s.step)).toEqual(['expand', 'dual-write']);
    expect(history.ops.find((op) => op.id === create.id)).toMatchObject({ step: 'expand', key: '8', outcome: 'ok', version: 'v1' });
    expect(history.ops.find((op) => op.id === read.id)).toMatchObject({ step: 'dual-write', value: value('seed-5'), readSource: 'old' });
    expect(history.ops.find((op) => op.id === retried.id)).toMatchObject({ outcome: 'info', completeAt: null, error: 'ECONNRESET' });
    expect(history.ops.find((op) => op.id === retry.id)).toMatchObject({ retries: 1, retryOf: retried.id, outcome: 'ok' });
    expect(history.ops.find((op) => op.id === unanswered.id)).toMatchObject({ outcome: 'fail', error: 'abandoned when the load stopped' });
  });

  it('When a history file ends before operations completed, then pending writes read back as unknown and pending reads as failed', () => {
    const lines = [
      { type: 'fields', fields: FIELDS },
      { type: 'invoke', id: 1, process: 0, f: 'write', key: '3', value: value('u3-w1'), at: 1, step: 'load' },
      { type: 'invoke', id: 2, process: 1, f: 'read', key: '3', at: 2, step: 'load' },
    ];
    const history = parseHistory(lines.map((line) => JSON.stringify(line)).join('\n'));
    expect(history.ops.map((op) => [op.outcome, op.completeAt])).toEqual([
      ['info', null],
      ['fail', null],
    ]);
  });

  it('When a history names rows by a string key, or (recorded before keys were strings) by a numeric userId, then both read back as string keys', () => {
    const uuid = '0b5e3c1a-7d2f-4a8e-9c61-5f0e2d4b8a17';
    const events = (name: 'key' | 'userId', key: string | number) => [
      { type: 'fields', fields: FIELDS },
      { type: 'initial', [name]: key, value: value('seed') },
      { type: 'invoke', id: 1, process: 0, f: 'create', [name]: null, value: value('c0-w1'), at: 1, step: 'load' },
      { type: 'complete', id: 1, outcome: 'ok', at: 2, [name]: key, status: 201 },
      { type: 'invoke', id: 2, process: 0, f: 'read', [name]: key, at: 3, step: 'load' },
      { type: 'complete', id: 2, outcome: 'ok', at: 4, [name]: key, value: value('c0-w1'), status: 200 },
      { type: 'final', [name]: key, value: value('c0-w1'), at: 5 },
    ];
    const keysOf = (history: RecordedHistory) => [...history.initial.map((u) => u.key), ...history.ops.map((op) => op.key), ...history.final.map((f) => f.key)];
    const read = (lines: object[]) => parseHistory(lines.map((line) => JSON.stringify(line)).join('\n'));

    expect(keysOf(read(events('key', uuid)))).toEqual([uuid, uuid, uuid, uuid]);
    expect(keysOf(read(events('userId', 42)))).toEqual(['42', '42', '42', '42']);
    expect(check(read(events('userId', 42)))).toMatchObject({ anomalies: 0, users: 1 });
  });

  it('When a history line is not JSON, then reading fails naming the line', () => {
    expect(() => parseHistory('{"type":"step","step":"a","at":1}\nnot json')).toThrow(/line 2: not JSON/);
  });

  it('When a history does not name its fields, or names them after a value or badly, then reading fails saying so', () => {
    const write = JSON.stringify({ type: 'invoke', id: 1, process: 0, f: 'write', key: '3', value: value('u3-w1'), at: 1 });
    expect(() => parseHistory('{"type":"step","step":"a","at":1}')).toThrow(/no fields event/);
    expect(() => parseHistory(`${write}\n{"type":"fields","fields":["name","email"]}`)).toThrow(/line 1: a value before the fields event/);
    expect(() => parseHistory('{"type":"fields","fields":[]}')).toThrow(/line 1: fields must be a non-empty list/);
    expect(() => parseHistory('{"type":"fields","fields":["name","name"]}')).toThrow(/line 1: fields names a field twice/);
    expect(() => new HistoryRecorder({ fields: [], file: null })).toThrow(/history fields: must be a non-empty list/);
  });
});
