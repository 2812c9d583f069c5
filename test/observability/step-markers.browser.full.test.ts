// The step markers as a workshop sees them: report.html, written by the demo's observation with the rollout's
// steps marked as the demo marks them, opened in Debian's chromium; every text the charts draw on their canvases
// is read back (fillText), and each step's label ("4 dual-read") is among them, whether it fits across the top of
// its band or is written down along its line. The data behind it: step-markers.test.ts. REQUIRE_BROWSER=1 turns a
// missing chromium into a failure. In make test-full: a browser start takes seconds on a busy machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { check } from '../../load/proof/checker/index.ts';
import { startObservation } from '../../load/observe/observation.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { FIELDS } from '../load/histories.ts';
import { markerLabel, ROLLOUT_STEPS, stepLabel } from '../../load/rollout/steps/index.ts';
import type { RolloutStep } from '../../load/rollout/steps/index.ts';
import { sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

/** A rollout step begins on the charts, as make demo marks it: from its file. */
const markStep = (observation: { step(n: number, step: string, title: string, label: string): void }, file: RolloutStep) => observation.step(file.number, stepLabel(file), file.title, markerLabel(file));

const CHROMIUM = '/usr/bin/chromium';
const browserMissing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (REQUIRE_BROWSER=1 turns this skip into a failure)`;

let database: TestDatabase | undefined;
let dir: string | undefined;
afterAll(async () => {
  await database?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('step markers in report.html, in a real browser', () => {
  if (browserMissing && process.env.REQUIRE_BROWSER === '1') {
    it('When REQUIRE_BROWSER=1, then chromium must be installed', () => {
      throw new Error(`${browserMissing} (REQUIRE_BROWSER=1)`);
    });
  }

  it.skipIf(browserMissing !== null)('When report.html opens, then every chart draws each step marker as "<number> <name>"', { timeout: 60_000 }, async () => {
    database = await sqliteTarget().create({ migrateTo: '006-instance-strategy' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'step-markers-browser-'));
    const observation = await startObservation({
      resultsDir: dir,
      recorder: new HistoryRecorder({ fields: FIELDS, file: null, step: 'start' }),
      db: database.db,
      registry: instanceRegistry(database.db),
      meta: { scenario: 'step markers', database: 'sqlite', stepSeconds: 1 },
      port: 0,
    });
    for (const file of ROLLOUT_STEPS) markStep(observation, file);
    const file = await observation.finish({ verdict: check({ fields: FIELDS, ops: [], initial: [] }), steps: [], passed: true, failure: null, final: [], snapshots: [] });

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // Every text drawn on a canvas, recorded as it is drawn (runs in the page, before its scripts).
      await page.addInitScript(() => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the browser; the project has no DOM types
        const g = globalThis as any;
        g.drawnTexts = [];
        const fillText = g.CanvasRenderingContext2D.prototype.fillText;
        g.CanvasRenderingContext2D.prototype.fillText = function (text: string, ...rest: unknown[]) {
          g.drawnTexts.push(String(text));
          return fillText.call(this, text, ...rest);
        };
      });
      await page.goto(`file://${file}`);
      await page.waitForSelector('[data-chart="database"] canvas');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the browser (see above)
      const drawn = await page.evaluate(() => (globalThis as any).drawnTexts as string[]);
      for (const step of ROLLOUT_STEPS) expect(drawn.filter((text) => text === `${step.number} ${step.name}`).length, step.name).toBeGreaterThanOrEqual(7);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
