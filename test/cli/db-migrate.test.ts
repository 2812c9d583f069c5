// npm run db:migrate (cli/db-migrate.ts): a wrong command line is refused before anything is touched, with
// one line naming what is wrong and exit code 2 (a script that exits 0 on failure would let a rollout go on).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../support/scripts.ts';

describe('db-migrate command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refusals = [
    { label: '`up --to nope`', args: ['up', '--to', 'nope'], names: '--to' },
    { label: 'an unknown command', args: ['sideways'], names: 'sideways' },
  ];
  for (const { label, args, names } of refusals) {
    it(`When db-migrate gets ${label}, then it exits 2 with one line naming ${names} and creates no database`, async () => {
      const file = path.join(dir, `${names.replace(/\W/g, '')}.sqlite`);

      const result = await runScript('cli/db-migrate.ts', args, { DATABASE_URL: `sqlite:${file}` });

      expect(result.code).toBe(2);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toContain(names);
      expect(fs.existsSync(file)).toBe(false);
    });
  }

  it('When db-migrate gets SYNC=trigger for a mapping whose transform is code only (orders-address), then it exits 2 with one line naming SYNC and the mapping, and creates no database', async () => {
    const file = path.join(dir, 'orders-trigger.sqlite');

    const result = await runScript('cli/db-migrate.ts', ['up'], { DATABASE_URL: `sqlite:${file}`, SYNC: 'trigger', MAPPING: 'orders-address' });

    expect(result.code, result.lines.join('\n')).toBe(2);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(/SYNC=trigger .*mapping orders-address has no SQL form/);
    expect(fs.existsSync(file)).toBe(false);
  });
});
