// MAPPING picks the migration a run is about (docs/template.md). A name that is not in examples/index.ts is a
// user's typo, not a crash: every entry point says so in one line naming MAPPING and the choices, exits 2 (as a
// bad command-line flag does) and touches nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/scripts.ts';

const ENTRY_POINTS: [string, string[]][] = [
  ['cli/rollout.ts', ['status']],
  ['app-v2/server.ts', []],
  ['load/rollout/demo.ts', []],
];

describe('a MAPPING that names no mapping', () => {
  it.each(ENTRY_POINTS)('When %s starts with MAPPING=nope, then it exits 2 with one line naming MAPPING and the choices, no stack trace, and creates no database', async (script, args) => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mapping-env-'));
    const file = path.join(folder, 'never.db');
    try {
      const result = await runScript(script, args, { MAPPING: 'nope', DATABASE_URL: `sqlite:${file}`, RESULTS_DIR: folder }, { timeoutMs: 30_000 });
      expect(result.code, result.lines.join('\n')).toBe(2);
      expect(result.lines).toEqual(['MAPPING: no mapping named "nope"; choose one of users, split-name, orders-address (examples/index.ts)']);
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
