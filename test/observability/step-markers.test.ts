// The step markers on the charts (the live dashboard's and report.html's) name the step, "4 dual-read", not only
// its number; the names come from the step files (load/rollout/steps/), as the demo marks them
// (observation.rolloutStep). Checked on the dashboard's data endpoint (/events: the init snapshot and each step
// event) and in report.html's chart model; that chromium draws them is step-markers.browser.full.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { check } from '../../load/proof/checker/index.ts';
import { startObservation } from '../../load/observe/observation.ts';
import type { Observation } from '../../load/observe/observation.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { FIELDS } from '../load/histories.ts';
import { markerLabel, ROLLOUT_STEPS, stepLabel } from '../../load/rollout/steps/index.ts';
import type { RolloutStep } from '../../load/rollout/steps/index.ts';
import { sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { readEvents } from '../support/event-stream.ts';

/** A rollout step begins on the charts, as make demo marks it: from its file. */
const markStep = (observation: { step(n: number, step: string, title: string, label: string): void }, file: RolloutStep) => observation.step(file.number, stepLabel(file), file.title, markerLabel(file));

let database: TestDatabase;
let recorder: HistoryRecorder;
let observation: Observation;
let dir: string;

beforeAll(async () => {
  database = await sqliteTarget().create({ migrateTo: '006-instance-strategy' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'step-markers-'));
  recorder = new HistoryRecorder({ fields: FIELDS, file: null, step: 'start' });
  observation = await startObservation({
    resultsDir: dir,
    recorder,
    db: database.db,
    registry: instanceRegistry(database.db),
    meta: { scenario: 'step markers', database: 'sqlite', stepSeconds: 1 },
    port: 0,
  });
});

afterAll(async () => {
  await observation?.stop();
  await database?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const expectedLabels = ROLLOUT_STEPS.map((file) => `${file.number} ${file.name}`);

describe('step markers on the charts', () => {
  it('When the demo marks its steps, then the dashboard sends each marker with its number and the name from its step file', async () => {
    for (const file of ROLLOUT_STEPS.slice(0, 4)) markStep(observation, file);
    const events = await readEvents(observation.url, 2, () => markStep(observation, ROLLOUT_STEPS[4]!), { skip: ['sample'] });

    const init = events[0]!;
    expect(init.event).toBe('init');
    expect((init.data.steps as { label: string }[]).map((s) => s.label)).toEqual(['0 base', '1 expand', '2 dual-write', '3 cross-version']);
    expect(events[1]).toMatchObject({ event: 'step', data: { n: 4, step: '4-dual-read', label: '4 dual-read', title: ROLLOUT_STEPS[4]!.title } });
  });

  it('When report.html is written, then its chart model names every step with its number and name', async () => {
    for (const file of ROLLOUT_STEPS.slice(5)) markStep(observation, file);
    const verdict = check({ fields: FIELDS, ops: [], initial: [] });
    const file = await observation.finish({ verdict, steps: [], passed: true, failure: null, final: [], snapshots: [] });
    const html = fs.readFileSync(file, 'utf8');
    const model = JSON.parse(/<script type="application\/json" id="model">(.*?)<\/script>/s.exec(html)![1]!) as { steps: { label: string }[] };
    expect(model.steps.map((s) => s.label)).toEqual(expectedLabels);
    expect(html).toContain('Step markers on the charts name the README');
    // The verdict's drift row says why drift is not an anomaly, as the terminal's verdict does.
    expect(html).toContain('harmless while nothing reads the copy');
  });
});
