// The rollout tools refuse a wrong command line before touching anything: exit 2, one line naming the option
// (a tool that guesses, or exits 0 on a typo, would let a rollout go on as if the step had run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runScript } from '../support/scripts.ts';

const refusals = [
  { script: 'cli/backfill.ts', args: ['--batch', '0'], names: '--batch' },
  { script: 'cli/backfill.ts', args: ['--batch', 'abc'], names: '--batch' },
  { script: 'cli/backfill.ts', args: ['--bogus'], names: '--bogus' },
  { script: 'cli/backfill.ts', args: ['--nice-ratio', '-1'], names: '--nice-ratio' },
  { script: 'cli/backfill.ts', args: ['--nice-ratio', '1e3'], names: '--nice-ratio' },
  { script: 'cli/backfill.ts', args: ['--max-redo-pct', '101'], names: '--max-redo-pct' },
  { script: 'cli/backfill.ts', args: ['--workers', '0'], names: '--workers' },
  { script: 'cli/backfill.ts', args: ['--unthrottled', '--workers', '5'], names: '--workers' },
  { script: 'cli/backfill.ts', args: [], env: { DATABASE_REPLICA_URL: 'postgres://replica/db' }, names: 'DATABASE_REPLICA_URL' },
  { script: 'cli/verify.ts', args: ['--mode', 'sideways'], names: '--mode' },
  { script: 'cli/verify.ts', args: ['--chunk', '0'], names: '--chunk' },
  { script: 'cli/rollout.ts', args: ['sideways'], names: 'sideways' },
  { script: 'cli/rollout.ts', args: ['advance', '--percent', '101'], names: '--percent' },
  { script: 'cli/db-contract.ts', args: ['--force'], names: '--force' },
];

describe.concurrent('rollout tools: bad command lines', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-rollout-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [index, { script, args, env = {}, names }] of refusals.entries()) {
    it(`When ${path.basename(script, '.ts')} gets \`${args.join(' ') || Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}\`, then it exits 2 with one line naming ${names} and creates no database`, async ({ expect }) => {
      const file = path.join(dir, `${index}.sqlite`);

      const result = await runScript(script, args, { DATABASE_URL: `sqlite:${file}`, ...env });

      expect(result.code).toBe(2);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toContain(names);
      expect(fs.existsSync(file)).toBe(false);
    });
  }
});
