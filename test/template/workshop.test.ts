// docs/workshop.md cannot drift from the code: every `sh` block in it runs, in order, one bash session per
// exercise, in short mode, and the lines under each block's **Expect:** must appear in its output in that order
// (`…` matches anything within a line). That takes minutes (two demos, a chaos run, a dozen CLI start-ups), so it
// runs in workshop.full.test.ts (make test-full); make test proves the same demo and anti-pattern in
// test/demo/demo.test.ts. Here: the guide's shape, the matcher, and that every command it names exists.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exercises, guide, missingLines } from './workshop-guide.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('docs/workshop.md', () => {
  it('When parsed, then it has numbered exercises 1-5, each with a goal, a precondition, commands with expected output, and a question', () => {
    expect(exercises.map((e) => e.number)).toEqual([1, 2, 3, 4, 5]);
    for (const section of guide.split(/^## Exercise /m).slice(1)) {
      expect(section).toMatch(/\*\*Goal:\*\*/);
      expect(section).toMatch(/\*\*Precondition:\*\*/);
      expect(section).toMatch(/\*\*Discuss:\*\*/);
    }
    for (const exercise of exercises) {
      expect(exercise.blocks.length, `exercise ${exercise.number}`).toBeGreaterThan(0);
      for (const block of exercise.blocks) expect(block.expect.length, `exercise ${exercise.number}: ${block.commands}`).toBeGreaterThan(0);
    }
  });

  it('When an expected line is absent or out of order, then the matcher reports it (the checks below can fail)', () => {
    expect(missingLines('a 1 b\nc\n', ['a … b', 'c'])).toEqual([]);
    expect(missingLines('c\na 1 b\n', ['c', 'a … b', 'c'])).toEqual(['c']);
    expect(missingLines('PASSED: 3 acknowledged writes', ['FAILED: …'])).toEqual(['FAILED: …']);
  });

  it('When its commands are read, then every npm script and make target they run exists', () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const targets = [...fs.readFileSync(path.join(ROOT, 'Makefile'), 'utf8').matchAll(/^([a-z][\w-]*):/gm)].map((m) => m[1]!);
    const commands = exercises.flatMap((e) => e.blocks.map((b) => b.commands)).join('\n');
    const named = {
      scripts: [...new Set([...commands.matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1]!))],
      targets: [...new Set([...commands.matchAll(/^\s*make ([\w-]+)/gm)].map((m) => m[1]!))],
    };

    expect(named.scripts.length).toBeGreaterThan(3);
    expect(named.targets).toEqual(expect.arrayContaining(['demo', 'chaos']));
    expect(named.scripts.filter((script) => !scripts.includes(script))).toEqual([]);
    expect(named.targets.filter((target) => !targets.includes(target))).toEqual([]);
  });
});
