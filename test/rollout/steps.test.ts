// The rollout steps as files (load/rollout/steps/NN-name.ts) and the README's table say the same, row by row, and
// `make demo` runs them in their order: a step renamed, reordered or reworded in one place and not the other fails
// here. The README's other promises (every command it names exists, every path it names is there):
// test/template/readme.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLLOUT_STEPS } from '../../load/rollout/steps/index.ts';
import { STAGE_STEP, STAGES } from '../../shared/rollout/stages.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The rows of the table under "## The rollout steps", as cells. */
function readmeTable(): string[][] {
  const section = README.slice(README.indexOf('## The rollout steps'));
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| # |'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(2, -2).split(' | '));
  }
  return rows;
}

describe('the rollout steps', () => {
  const rows = readmeTable();

  it('When the README table is read, then it has one row per step file, in the same order', () => {
    expect(rows.map((row) => Number(row[0]))).toEqual(ROLLOUT_STEPS.map((step) => step.number));
    expect(ROLLOUT_STEPS.map((step) => step.number)).toEqual(ROLLOUT_STEPS.map((_, i) => i));
  });

  it.each(ROLLOUT_STEPS.map((step) => [step.number, step.name, step] as const))('When row %i is compared with the file of step %s, then each cell is the same', (n, _name, step) => {
    const [, heading, checklistItem, command, precondition, rollback] = rows[n]!;
    expect({ heading, checklistItem, command, precondition, rollback }).toEqual({
      heading: step.heading,
      checklistItem: step.checklistItem,
      command: step.command,
      precondition: step.precondition,
      rollback: step.rollback,
    });
  });

  it('When the step files are listed, then each is named NN-name.ts after its step, and exports it', async () => {
    const files = fs.readdirSync(path.join(ROOT, 'load/rollout/steps')).filter((file) => /^\d\d-/.test(file));
    expect(files.sort()).toEqual(ROLLOUT_STEPS.map((step) => `${String(step.number).padStart(2, '0')}-${step.name}.ts`));
    for (const file of files) {
      const exported = Object.values((await import(path.join(ROOT, 'load/rollout/steps', file))) as Record<string, unknown>);
      expect(exported, file).toContain(ROLLOUT_STEPS[Number(file.slice(0, 2))]);
    }
  });

  it("When the steps are walked in order, then their stages are the rollout's stages and never go back", () => {
    const indexes = ROLLOUT_STEPS.map((step) => STAGES.indexOf(step.stage));
    expect(indexes.every((index) => index >= 0)).toBe(true);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(ROLLOUT_STEPS.map((step) => step.stage))).toEqual(new Set(STAGES));
  });

  it('When rollout status numbers a stage, then the number is the README step that brings the system into it', () => {
    const firstStepOf = Object.fromEntries(STAGES.map((stage) => [stage, ROLLOUT_STEPS.find((step) => step.stage === stage)?.number]));

    expect(STAGE_STEP).toEqual(firstStepOf);
  });

  it('When load/rollout/demo.ts is read, then it runs every step by its file, in order, and names no step of its own', () => {
    const demo = fs.readFileSync(path.join(ROOT, 'load/rollout/demo.ts'), 'utf8');
    const run = [...demo.matchAll(/await step\('([a-z0-9-]+)'/g)].map((match) => match[1]);
    expect(run).toEqual(ROLLOUT_STEPS.map((step) => step.name));
  });
});
