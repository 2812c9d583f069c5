// `tsx load/proof/check.ts`: the verdict is the exit code (0 only with 0 anomalies) and a JSON file; a bad option is
// one line naming it and exit 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { runScript } from '../support/scripts.ts';
import { FIELDS, value } from './histories.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A history of one user: created, renamed, then read back as `readBack` (the old value makes it stale). */
async function writeHistory(name: string, readBack: string): Promise<string> {
  let clock = 0;
  const file = path.join(dir, name, 'history.jsonl');
  const recorder = new HistoryRecorder({ fields: FIELDS, file, clock: () => ++clock });
  const create = recorder.invoke({ process: 0, f: 'create', key: null, value: value('u1-w1') });
  recorder.complete(create, { outcome: 'ok', status: 201, key: '1', version: 'v1' });
  const write = recorder.invoke({ process: 0, f: 'write', key: '1', value: value('u1-w2') });
  recorder.complete(write, { outcome: 'ok', status: 200, version: 'v2' });
  const read = recorder.invoke({ process: 0, f: 'read', key: '1' });
  recorder.complete(read, { outcome: 'ok', status: 200, value: value(readBack), version: 'v1' });
  await recorder.close();
  return file;
}

describe('check CLI', () => {
  it('When the history is clean, then it prints PASS, writes the verdict next to the history and exits 0', async () => {
    const history = await writeHistory('clean', 'u1-w2');
    const snapshots = path.join(dir, 'clean', 'snapshots.jsonl');
    // The second snapshot as a file written before keys were strings names its row by a numeric id: read as key "1".
    const rows = [{ key: '1', old: value('u1-w2'), new: null }, { id: 1, old: value('u1-w2'), new: null }];
    fs.writeFileSync(snapshots, rows.map((row, i) => `${JSON.stringify({ step: `load-${i}`, takenAt: 100 + i, v1MayBeAlive: true, rows: [row] })}\n`).join(''));
    const result = await runScript('load/proof/check.ts', ['--history', history, '--snapshots', snapshots], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/PASS: 0 anomalies/);
    const verdict = JSON.parse(fs.readFileSync(path.join(dir, 'clean', 'verdict.json'), 'utf8'));
    expect(verdict).toMatchObject({ anomalies: 0, acknowledgedWrites: 2, reads: 1, snapshotsChecked: 2, versionsSeen: ['v1', 'v2'] });
  });

  it('When the history has a stale read, then it prints it, writes the verdict to --out and exits 1', async () => {
    const history = await writeHistory('stale', 'u1-w1');
    const out = path.join(dir, 'stale', 'out', 'verdict.json');
    const result = await runScript('load/proof/check.ts', ['--history', history, '--out', out], {});
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL: 1 anomalies/);
    expect(result.stdout).toMatch(/1 {2}stale reads/);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).byKind.stale).toBe(1);
  });

  it('When an option is unknown, missing or unreadable, then one line names it and the exit code is 2', async () => {
    const [unknown, missing, unreadable] = await Promise.all([
      runScript('load/proof/check.ts', ['--histroy', 'x'], {}),
      runScript('load/proof/check.ts', [], {}),
      runScript('load/proof/check.ts', ['--history', path.join(dir, 'nope.jsonl')], {}),
    ]);
    for (const result of [unknown, missing, unreadable]) {
      expect(result.code).toBe(2);
      expect(result.lines).toHaveLength(1);
    }
    expect(unknown.lines[0]).toMatch(/--histroy/);
    expect(missing.lines[0]).toMatch(/^--history: required/);
    expect(unreadable.lines[0]).toMatch(/^--history: cannot read/);
  });
});
