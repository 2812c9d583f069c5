// make workshop's controls, clicked in a real browser (Debian's chromium driven by playwright-core; never a
// downloaded browser): each control does what it says (asserted in the database and the history, not only on the
// page), a refused advance shows the gate's reason, bad input is a 400 naming the field, a missing or wrong admin
// token is a 401 or 403, and a write by hand (SQL) shows as external. One sandbox (SQLite, 2,000 rows) serves the
// whole file. REQUIRE_BROWSER=1 turns a missing /usr/bin/chromium into a failure.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { readFlagSet } from '../../shared/flags/store.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { ROOT, startSandbox } from './support.ts';
import type { RunningSandbox } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
const browserMissing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (install Debian's chromium; REQUIRE_BROWSER=1 turns this skip into a failure)`;
const required = process.env.REQUIRE_BROWSER === '1';
const RESULTS = path.join(path.resolve(ROOT, process.env.RESULTS_DIR || 'results'), 'browser', `workshop-${process.pid}`);

let sandbox: RunningSandbox | undefined;
let browser: Browser | undefined;
let page: Page;
let db: Database;
let actions = 0;

afterAll(async () => {
  await browser?.close();
  await db?.close();
  await sandbox?.stop();
});

/** Clicks a control and resolves with the result line once the action's answer is shown. */
async function click(selector: string): Promise<string> {
  actions++;
  await page.click(selector);
  const result = page.getByTestId('control-result');
  await expect.poll(async () => (await result.textContent()) ?? '', { timeout: 45_000, interval: 100 }).toMatch(new RegExp(`^#${actions} `));
  return (await result.textContent())!;
}

async function alive(): Promise<string[]> {
  return (await instanceRegistry(db).list()).alive.map((i) => i.instanceId).sort();
}

describe.skipIf(browserMissing !== null && !required)('make workshop: the dashboard controls', () => {
  beforeAll(async () => {
    if (browserMissing) throw new Error(browserMissing);
    sandbox = await startSandbox(RESULTS);
    db = await connectDatabase(sandbox.databaseUrl, { poolMax: 2 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${sandbox.origin}?token=${sandbox.token}`);
  }, 120_000);

  it('When the page is opened without the token, then the controls stay hidden and the API answers 401, and 403 to a wrong token', async () => {
    const other = await browser!.newPage();
    await other.goto(sandbox!.origin);
    expect(await other.getByTestId('controls').isHidden()).toBe(true);
    await other.close();
    const missing = await fetch(`${sandbox!.origin}api/verify`, { method: 'POST' });
    expect(missing.status).toBe(401);
    const wrong = await fetch(`${sandbox!.origin}api/verify`, { method: 'POST', headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('When each control is clicked, then it does what it says, a refused advance shows the gate\'s reason, and every action is logged', { timeout: 240_000 }, async () => {
    expect(await page.getByTestId('controls').isVisible()).toBe(true);

    // Advance: dual-write -> dual-read (a flag every instance loads before the answer).
    expect(await click('button[data-action="rollout-advance"]')).toMatch(/rollout advance: done: dual-write -> dual-read/);
    expect((await readFlagSet(db))?.values['dual-read']).toBe(true);

    // Backfill: throttled to take about a minute, so it is still running when the next clicks come.
    expect(await click('button[data-action="backfill-start"]')).toMatch(/start the backfill \(--batch 200 --sleep-ms \d+\): done: running as run #\d+/);
    // Advance while it runs: the read-shift gate refuses, and the page says why.
    const refused = await click('button[data-action="rollout-advance"]');
    expect(refused).toMatch(/rollout advance: refused: backfill -> read-shift 1%: .*backfill/);
    const [event] = await db.select<{ outcome: string; detail: string }>("SELECT outcome, detail FROM rollout_events WHERE action = 'advance' ORDER BY id DESC LIMIT 1");
    expect(event?.outcome).toBe('refused');
    expect(refused).toContain(event!.detail);

    expect(await click('button[data-action="backfill-pause"]')).toMatch(/pause the backfill .*: done/);
    expect((await readFlagSet(db))?.values['backfill-pause']).toBe(true);
    expect(await click('button[data-action="backfill-resume"]')).toMatch(/resume the backfill .*: done/);
    expect((await readFlagSet(db))?.values['backfill-pause']).toBe(false);

    // read-new-percent: an empty field is a 400 naming it; 0 (lowering) is always allowed.
    await page.fill('[data-testid="percent"]', '');
    await page.click('button[data-action="read-new-percent"]');
    await expect.poll(() => page.getByTestId('control-result').textContent(), { timeout: 10_000 }).toMatch(/HTTP 400: percent: percent is required/);
    await page.fill('[data-testid="percent"]', '0');
    expect(await click('button[data-action="read-new-percent"]')).toMatch(/set read-new-percent 0: done/);

    // Instances: start a v1 and a v2 in spare slots, stop (SIGTERM) one, kill (SIGKILL) the other.
    expect(await click('button[data-action="instance-start"][data-version="v1"]')).toMatch(/start a v1: done: v1-c serves/);
    expect(await click('button[data-action="instance-start"][data-version="v2"]')).toMatch(/start a v2: done: v2-b serves/);
    expect(await alive()).toEqual(expect.arrayContaining(['v1-c', 'v2-b']));
    await page.selectOption('[data-testid="instance"]', 'v1-c');
    expect(await click('button[data-action="instance-stop"]')).toMatch(/stop v1-c \(SIGTERM: it drains\): done: v1-c exited \(code 0\)/);
    await page.selectOption('[data-testid="instance"]', 'v2-b');
    expect(await click('button[data-action="instance-kill"]')).toMatch(/kill v2-b \(SIGKILL.*\): done: v2-b exited \(SIGKILL\)/);
    // A stopped instance marks itself stopped; a killed one stops being alive once it misses its heartbeats.
    await expect.poll(alive, { timeout: 30_000, interval: 250 }).not.toContain('v1-c');

    // A v2 with an anti-pattern, in the next free v2 slot.
    await page.selectOption('[data-testid="anti-pattern"]', 'prefer-new-read');
    expect(await click('button[data-action="anti-pattern-start"]')).toMatch(/start a v2 with the anti-pattern prefer-new-read: done: v2-b serves .* with ANTI_PATTERN=prefer-new-read/);

    expect(await click('button[data-action="verify"]')).toMatch(/run verify: done: exit [01]/);
    expect(await click('button[data-action="rollout-rollback"]')).toMatch(/rollout rollback: (done|refused)/);

    // Every action is on the page's log, in actions.jsonl, and in the history as a step event.
    await expect.poll(async () => page.locator('[data-testid="action-log"] li').count(), { timeout: 10_000 }).toBe(actions);
    const logged = fs.readFileSync(path.join(sandbox!.resultsDir, 'actions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; outcome: string });
    expect(logged.map((a) => a.action)).toEqual([
      'rollout-advance', 'backfill-start', 'rollout-advance', 'backfill-pause', 'backfill-resume', 'read-new-percent',
      'instance-start', 'instance-start', 'instance-stop', 'instance-kill', 'anti-pattern-start', 'verify', 'rollout-rollback',
    ]);
    expect(logged[2]!.outcome).toBe('refused');
    const history = fs.readFileSync(path.join(sandbox!.resultsDir, 'history.jsonl'), 'utf8');
    expect(history).toContain('"type":"step","step":"action-10-instance-kill"');
    // prefer-new-read beside the v1s serves stale reads: each listed after the action nearest before its finding.
    await expect
      .poll(async () => page.locator('[data-testid="anomaly-log"] li').allTextContents(), { timeout: 60_000, interval: 500 })
      .toContainEqual(expect.stringMatching(/s after #1[123] (start a v2 with the anti-pattern prefer-new-read|run verify|rollout rollback): /));
    await page.screenshot({ path: path.join(RESULTS, 'controls.png'), fullPage: true });
  });

  it('When a user is changed by hand in SQL, then the page lists it as an external write, not as an anomaly', { timeout: 120_000 }, async () => {
    // Seen once the load reads it; when the load writes user 1 first the value is gone unseen, so it is made again
    // with a new value until one is seen.
    const listed = () => page.getByTestId('external-write').allTextContents();
    let name = '';
    for (let attempt = 1; attempt <= 6 && (await listed()).length === 0; attempt++) {
      name = `fixed in SQL ${process.pid}-${attempt}`;
      await db.run('UPDATE users SET name = $1 WHERE id = 1', [name]);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await listed()).length === 0) await page.waitForTimeout(250);
    }
    expect(await listed()).toContainEqual(expect.stringMatching(new RegExp(`^@[\\d.]+s external: a write by hand on user 1 \\(name "${name}"`)));
    expect(await page.locator('[data-testid="anomaly-log"] li').allTextContents()).not.toContainEqual(expect.stringMatching(/garbage \(user 1\)/));
  });
});
