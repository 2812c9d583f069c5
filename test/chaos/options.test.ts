// Bad input to make chaos: one line naming the variable, exit 2, and nothing started or written (no results, no
// database, no instance): the runner refuses before its first scenario.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../load/run-script.ts';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

describe('make chaos options', () => {
  it.each([
    ['SYNC=bogus', { SYNC: 'bogus' }, /^chaos: SYNC must be one of app, trigger \(got "bogus"\)$/],
    ['SYNC=trigger with a mapping whose transform is code only (orders-address)', { SYNC: 'trigger', MAPPING: 'orders-address' }, /^chaos: SYNC=trigger cannot run: mapping orders-address has no SQL form .*use SYNC=app/],
  ])('When make chaos is started with %s, then it prints one line naming SYNC, exits 2 and starts nothing', async (_case, env, message) => {
    const run = await runScript('load/chaos/run.ts', [], { ...env, SCENARIO: 'kill-v2', CHAOS_SHORT: '1' });
    folders.push(run.resultsDir);

    expect(run.output.trim().split('\n'), run.output).toHaveLength(1);
    expect(run.output.trim()).toMatch(message);
    expect(run.code, run.output).toBe(2);
    expect(fs.readdirSync(run.resultsDir)).toEqual([]);
  }, 60_000);
});
