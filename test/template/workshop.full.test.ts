// make test-full: docs/workshop.md cannot drift from the code: every `sh` block in it runs here, in order, one bash
// session per exercise, in short mode, and the lines under each block's **Expect:** must appear in its output in
// that order (`…` matches anything within a line); workshop.test.ts (make test) checks the guide's shape and that
// every command it names exists. Exercise 1 is also the PAUSE=1 test: the demo reads Enter from a pipe and must
// not start step N before the N-th Enter, with the steps numbered as in the README's canonical table.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exercises, missingLines, skipReason, startSessions, TEST_TIMEOUT_MS } from './workshop-guide.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Two lanes: exercise 1 (the long one) beside the others one after another.
const sessions = startSessions([[1], [2, 3, 4, 5]]);

describe('docs/workshop.md, run as written', () => {
  for (const exercise of exercises) {
    const reason = skipReason(exercise);
    it.skipIf(reason !== null)(`When exercise ${exercise.number} (${exercise.title}) runs as written, then every expected line appears${reason ? ` [skipped: ${reason}]` : ''}`, async () => {
      const session = await sessions.get(exercise.number)!;

      exercise.blocks.forEach((block, i) => {
        expect(missingLines(session.outputs[i]!, block.expect), `block ${i + 1} of exercise ${exercise.number}:\n${block.commands}\n--- output ---\n${session.outputs[i]}`).toEqual([]);
      });
    }, TEST_TIMEOUT_MS);
  }

  it('When make demo PAUSE=1 reads Enter from a pipe, then it stops before each step numbered as in the README table, and starts it only after Enter', async () => {
    const readmeSteps = [...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/^\| (\d+) \| [^|]+ \|/gm)].map((m) => Number(m[1]));
    const session = await sessions.get(1)!;

    expect(readmeSteps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(session.pauses.map((p) => p.step), session.all.slice(-3000)).toEqual(readmeSteps);
    expect(session.pauses.filter((p) => p.startedEarly)).toEqual([]);
    for (const step of readmeSteps) expect(session.all.indexOf(`== step ${step}:`)).toBeGreaterThan(session.all.indexOf(`[PAUSE] next: step ${step} `));
    expect(session.code).toBe(0);
  }, TEST_TIMEOUT_MS);
});
