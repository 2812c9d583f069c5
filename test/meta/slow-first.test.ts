// make test's file order (test/support/slow-first-sequencer.ts): the files named slow must exist and be make test
// files, or a rename would silently send a two-minute file back to the end of the run.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_FILES } from '../support/slow-first-sequencer.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('make test starts its slowest files first', () => {
  it('When the sequencer names its slow files, then each is an existing make test file (not a make test-full one), named once', () => {
    for (const file of SLOW_FILES) {
      expect(fs.existsSync(path.join(ROOT, file)), file).toBe(true);
      expect(file, file).not.toMatch(/\.full\.test\.ts$/);
    }
    expect(new Set(SLOW_FILES).size).toBe(SLOW_FILES.length);
  });
});
