// make test-full (a demo of its own, about a minute; make test keeps within its 10 minutes). The dashboard and the report, in a real browser (Debian's chromium driven by playwright-core; never a
// downloaded browser). A short demo runs the prefer-new-read anti-pattern (steps 0-5: both versions, then v1
// retired, with stale reads from step 3 on), so one run shows the step and version counts changing live and
// anomalies marked on the report's charts. Screenshots go to $RESULTS_DIR/browser/: they are what a workshop
// sees. REQUIRE_BROWSER=1 (set by .ci/run) turns a missing /usr/bin/chromium into a failure.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.join(path.resolve(ROOT, process.env.RESULTS_DIR || 'results'), 'browser');
const browserMissing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (install Debian's chromium; REQUIRE_BROWSER=1 turns this skip into a failure)`;
const required = process.env.REQUIRE_BROWSER === '1';
const mysql = await mysqlTarget();

let demo: ChildProcess | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) demo.kill('SIGTERM');
});

/** Starts `make demo`'s script and resolves with the dashboard URL it prints. */
function startDemo(resultsDir: string): Promise<{ url: string; exited: Promise<{ code: number | null; output: string }> }> {
  fs.rmSync(resultsDir, { recursive: true, force: true });
  demo = spawnTsx('load/rollout/demo.ts', [], {
    cwd: ROOT,
    env: {
      ...process.env,
      DB: mysql.skip ? 'sqlite' : 'mysql',
      SCENARIO: 'prefer-new-read',
      RESULTS_DIR: resultsDir,
      DEMO_STEP_SECONDS: '1',
      DEMO_SEED_USERS: '100',
      DASHBOARD_PORT: '0',
    },
  });
  let output = '';
  const child = demo;
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (more: Buffer) => (output += more));
        resolve({ url: match[1]!, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    void exited.then(({ code }) => reject(new Error(`the demo exited ${code} before printing its dashboard URL:\n${output}`)));
  });
}

// These run in the page (serialized by playwright: no closures). The dashboard's CSP forbids evaluating
// strings, and the project's TypeScript has no DOM types, hence the loosely typed document.
function textMatches({ testId, source }: { testId: string; source: string }): boolean {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the browser; no DOM types here (see above)
  const element = (globalThis as any).document.querySelector(`[data-testid="${testId}"]`);
  return new RegExp(source).test(element?.textContent ?? '');
}

/** Canvas pixels that are painted (not transparent, not white), or those close to a colour. */
function countPainted({ chart, near }: { chart: string; near: number[] | null }): number {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the browser; no DOM types here
  const canvas = (globalThis as any).document.querySelector(`[data-chart="${chart}"] canvas`);
  if (!canvas) return -1;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a < 200) continue;
    if (near ? Math.abs(r - near[0]!) + Math.abs(g - near[1]!) + Math.abs(b - near[2]!) < 60 : r + g + b < 720) count++;
  }
  return count;
}

const paintedPixels = (page: Page, chart: string, near?: [number, number, number]) => page.evaluate(countPainted, { chart, near: near ?? null });

describe('the live dashboard and report.html in a real browser', () => {
  if (browserMissing && required) {
    it('When REQUIRE_BROWSER=1, then chromium must be installed', () => {
      throw new Error(`${browserMissing} (REQUIRE_BROWSER=1)`);
    });
  }

  it.skipIf(browserMissing !== null)(
    'When a short demo runs, then the dashboard shows the step and the instances by version changing, and report.html has its charts drawn with the anomalies marked',
    async () => {
      fs.mkdirSync(RESULTS, { recursive: true });
      const resultsDir = path.join(RESULTS, 'demo');
      const { url, exited } = await startDemo(resultsDir);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(url);

      const textOf = (testId: string) => page.getByTestId(testId).textContent();
      // Both versions serving side by side (steps 2-4), then v1 retired (step 5): read off the page as it updates.
      await page.waitForFunction(textMatches, { testId: 'versions', source: 'v1: 2\\s+v2: 1' }, { timeout: 60_000, polling: 100 });
      const stepWithBoth = await textOf('step');
      expect(stepWithBoth).toMatch(/^Step [234]:/);
      await page.screenshot({ path: path.join(RESULTS, 'dashboard-v1-and-v2.png'), fullPage: true });

      await page.waitForFunction(textMatches, { testId: 'versions', source: 'v1: 0\\s+v2: 2' }, { timeout: 60_000, polling: 100 });
      expect(await textOf('step')).toMatch(/^Step 5: retire v1/);
      await page.waitForFunction(textMatches, { testId: 'anomalies', source: 'stale: [1-9]' }, { timeout: 30_000, polling: 200 });
      await page.waitForTimeout(1200); // one more sample, so the last second shows on the charts
      await page.screenshot({ path: path.join(RESULTS, 'dashboard-v1-retired.png'), fullPage: true });
      expect(await paintedPixels(page, 'requests')).toBeGreaterThan(1000);

      const { code, output } = await exited;
      expect(code, output).toBe(1);
      const reportFile = path.join(resultsDir, 'report.html');
      expect(fs.existsSync(reportFile), output).toBe(true);

      const report = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      report.on('pageerror', (err) => pageErrors.push(err.message));
      // A self-contained file: any request other than the file itself would be the network.
      const requests: string[] = [];
      report.on('request', (request) => requests.push(request.url()));
      await report.goto(`file://${reportFile}`);
      await report.waitForSelector('[data-chart="database"] canvas');
      expect(await report.locator('.chart canvas').count()).toBe(7);
      for (const chart of ['requests', 'latency', 'anomalies', 'instances', 'reads']) {
        expect(await paintedPixels(report, chart), chart).toBeGreaterThan(1000);
      }
      // The stale reads' red ticks on the requests chart (#d62728), where they happened.
      expect(await paintedPixels(report, 'requests', [0xd6, 0x27, 0x28])).toBeGreaterThan(50);
      expect(await report.getByTestId('verdict').textContent()).toBe('FAILED');
      await report.screenshot({ path: path.join(RESULTS, 'report.png'), fullPage: true });
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    150_000,
  );
});
