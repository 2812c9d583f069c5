// A failed demo prints the instances' warnings and errors beside its failed requests (load/run/instance-logs.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { instanceWarnings } from '../../load/run/instance-logs.ts';

describe('instance log warnings', () => {
  it('When instance logs hold info, warning and error lines and plain text, then only warnings and errors come back, oldest first across files, up to the limit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instance-logs-'));
    const at = Date.UTC(2026, 11, 2, 12, 0, 0);
    fs.writeFileSync(
      path.join(dir, 'v1-a.log'),
      [
        'v1 instance v1-a listening on http://127.0.0.1:4001',
        JSON.stringify({ level: 30, time: at, msg: 'request completed' }),
        JSON.stringify({ level: 40, time: at + 2000, msg: 'heartbeat failed', err: { message: 'heartbeat took longer than 3000 ms' } }),
        '{ not json',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'v2-a.log'),
      [JSON.stringify({ level: 50, time: at + 1000, msg: 'request failed' }), JSON.stringify({ level: 40, time: at + 3000, msg: 'lease lost' })].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'notes.txt'), JSON.stringify({ level: 60, time: at, msg: 'not a log file' }));

    expect(instanceWarnings(dir)).toEqual([
      'v2-a 12:00:01.000 ERROR request failed',
      'v1-a 12:00:02.000 WARN heartbeat failed: heartbeat took longer than 3000 ms',
      'v2-a 12:00:03.000 WARN lease lost',
    ]);
    expect(instanceWarnings(dir, 1)).toEqual(['v2-a 12:00:01.000 ERROR request failed']);
  });

  it('When the logs folder does not exist, then there is nothing to show and no error', () => {
    expect(instanceWarnings(path.join(os.tmpdir(), `no-such-logs-${process.pid}-${Date.now()}`))).toEqual([]);
  });
});
