// Bad input to make demo: a clear line naming the variable, exit 2, and nothing started or written (no results
// folder content, no database).
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../load/run-script.ts';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

describe('make demo options', () => {
  it.each([
    ['DEMO_SEED_USERS', 'many', /DEMO_SEED_USERS must be a whole number from 1 to 1000000 \(got "many"\)/],
    ['DEMO_SEED_USERS', '0', /DEMO_SEED_USERS must be a whole number/],
    ['DEMO_STEP_SECONDS', '0.2', /DEMO_STEP_SECONDS must be a number from 1 to 120/],
    ['SCENARIO', 'prefer-old-read', /SCENARIO must be rollout or one of/],
    ['DEMO_RATE', '2.5', /DEMO_RATE must be a whole number of requests per second from 10 to 100000 \(got "2.5"\)/],
    ['DEMO_RATE', 'fast', /DEMO_RATE must be a whole number/],
    ['DB', 'postgres', /^demo: DB must be sqlite, mysql or mysql-replica \(got "postgres"\)$/m],
  ])('When the demo is started with %s=%s, then it names the variable, exits 2 and writes nothing', async (variable, value, message) => {
    const run = await runScript('load/rollout/demo.ts', [], { DB: 'sqlite', [variable]: value });
    folders.push(run.resultsDir);

    expect(run.output).toMatch(message);
    expect(run.output, 'no stack trace').not.toMatch(/^\s+at /m);
    expect(run.code, run.output).toBe(2);
    expect(fs.readdirSync(run.resultsDir)).toEqual([]);
  }, 60_000);

  it('When the demo is started with SYNC=trigger for a mapping whose transform is code only (orders-address), then it names SYNC and the mapping, exits 2 and writes nothing', async () => {
    const run = await runScript('load/rollout/demo.ts', [], { DB: 'sqlite', SYNC: 'trigger', MAPPING: 'orders-address' });
    folders.push(run.resultsDir);

    expect(run.output).toMatch(/SYNC=trigger .*mapping orders-address has no SQL form/);
    expect(run.code, run.output).toBe(2);
    expect(fs.readdirSync(run.resultsDir)).toEqual([]);
  }, 60_000);

  it.each([
    ['unset', { SYNC: '' }],
    ['app', { SYNC: 'app' }],
  ])('When the demo is started with SCENARIO=one-way-trigger and SYNC %s, then it names SCENARIO and SYNC, exits 2 and writes nothing', async (_shown, sync: Record<string, string>) => {
    const run = await runScript('load/rollout/demo.ts', [], { DB: 'sqlite', SCENARIO: 'one-way-trigger', ...sync });
    folders.push(run.resultsDir);

    expect(run.output).toMatch(/SCENARIO=one-way-trigger needs SYNC=trigger/);
    expect(run.code, run.output).toBe(2);
    expect(fs.readdirSync(run.resultsDir)).toEqual([]);
  }, 60_000);
});
