// make workshop's control endpoints, without a browser or a running fleet (the browser tour is
// controls.browser.full.test.ts): the admin token (401 without, 403 wrong), bad input (400 naming the field), a
// refusal by the rollout's gate (409 with the reason, nothing written), every action recorded (history step,
// actions.jsonl), the seeding in multi-row batches, and each anomaly put next to the action nearest before it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFlagSet } from '../../shared/flags/store.ts';
import { startDashboard } from '../../load/observe/dashboard/server.ts';
import type { Dashboard } from '../../load/observe/dashboard/server.ts';
import { Fleet } from '../../load/run/fleet.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { SandboxControls } from '../../load/workshop/actions.ts';
import type { ActionRecord } from '../../load/workshop/actions.ts';
import { attribute, nearestActionBefore } from '../../load/workshop/attribution.ts';
import { controlsApi } from '../../load/workshop/controls-api.ts';
import { seedUsers } from '../../load/run/seed.ts';
import { sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const TOKEN = 'a'.repeat(32);
let database: TestDatabase;
let dashboard: Dashboard;
let controls: SandboxControls;
let recorder: HistoryRecorder;
let dir: string;
const published: { event: string; data: unknown }[] = [];

beforeAll(async () => {
  database = await sqliteTarget().create({ migrateTo: '006-instance-strategy' });
  await seedUsers(database.db, 50);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-controls-'));
  recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: path.join(dir, 'history.jsonl'), step: 'sandbox' });
  const fleet = await Fleet.allocate([{ name: 'v1-a', version: 'v1' }, { name: 'v2-a', version: 'v2' }], { DATABASE_URL: database.url });
  let api: ReturnType<typeof controlsApi> | undefined;
  dashboard = await startDashboard({ port: 0, snapshot: () => ({}), api: (req, res, url) => api!(req, res, url) });
  controls = new SandboxControls({
    db: database.db,
    fleet,
    recorder,
    observation: {
      publish: (event, data) => {
        published.push({ event, data });
        dashboard.publish(event, data);
      },
      step: () => {},
      secondsAt: (at) => Math.round(at / 100) / 10,
    },
    env: { DATABASE_URL: database.url },
    logFile: path.join(dir, 'actions.jsonl'),
    backfill: { batch: 200, sleepMs: 100 },
  });
  api = controlsApi({ token: TOKEN, perform: (action, input) => controls.perform(action, input) });
});

afterAll(async () => {
  await dashboard?.close();
  await recorder?.close();
  await database?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** What a control answers: an error naming the field, or the action's outcome. */
interface ControlAnswer {
  error?: { code: string; field?: string; message: string };
  id?: number;
  outcome?: string;
  detail?: string;
  [key: string]: unknown;
}

async function post(action: string, body: string | object | undefined, token: string | null = TOKEN) {
  const response = await fetch(`${dashboard.url}api/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as ControlAnswer };
}

describe('make workshop: the control endpoints', () => {
  it('When the admin token is missing or wrong, then the answer is 401 or 403 and nothing is recorded', async () => {
    expect((await post('verify', {}, null)).status).toBe(401);
    const wrong = await post('verify', {}, 'b'.repeat(32));
    expect(wrong.status).toBe(403);
    expect(wrong.json.error?.code).toBe('forbidden');
    expect((await fetch(`${dashboard.url}api/verify`)).status).toBe(405);
    expect(controls.actions).toHaveLength(0);
  });

  it('When an input is wrong, then the answer is a 400 naming the field, and nothing is recorded', async () => {
    const cases: [string, string | object, string][] = [
      ['read-new-percent', { percent: 101 }, 'percent'],
      ['read-new-percent', {}, 'percent'],
      ['rollout-advance', { percent: 'ten' }, 'percent'],
      ['instance-start', { version: 'v3' }, 'version'],
      ['instance-kill', { instance: 'v9-z' }, 'instance'],
      ['anti-pattern-start', { antiPattern: 'replica-reads' }, 'antiPattern'],
      ['anti-pattern-start', { antiPattern: 'one-way-trigger' }, 'antiPattern'],
      ['verify', '[1]', 'body'],
      ['verify', '{not json', 'body'],
    ];
    for (const [action, body, field] of cases) {
      const answer = await post(action, body);
      expect({ action, status: answer.status, field: answer.json.error?.field }).toEqual({ action, status: 400, field });
      expect(answer.json.error?.message).toMatch(new RegExp(field === 'body' ? 'JSON' : field));
    }
    expect((await post('drop-everything', {})).status).toBe(404);
    expect(controls.actions).toHaveLength(0);
  });

  it('When read-new-percent is raised before a backfill, then the gate refuses with its reason (409), nothing is written, and the action is recorded', async () => {
    const before = await readFlagSet(database.db);
    const answer = await post('read-new-percent', { percent: 50 });
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({ action: 'read-new-percent', outcome: 'refused', detail: expect.stringMatching(/read-shift gate/) });
    expect((await readFlagSet(database.db))?.version ?? null).toBe(before?.version ?? null);
    const id = answer.json.id as number;
    expect(recorder.steps.map((s) => s.step)).toContain(`action-${id}-read-new-percent`);
    const lines = fs.readFileSync(path.join(dir, 'actions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ActionRecord);
    expect(lines.at(-1)).toMatchObject({ id, outcome: 'refused' });
    expect(published.some((p) => p.event === 'action' && (p.data as { action: ActionRecord }).action.id === id)).toBe(true);
  });

  it('When the backfill is paused, then the backfill-pause flag is set in the database', async () => {
    const answer = await post('backfill-pause', undefined);
    expect(answer.status).toBe(200);
    expect((await readFlagSet(database.db))?.values['backfill-pause']).toBe(true);
    expect((await post('backfill-resume', {})).status).toBe(200);
    expect((await readFlagSet(database.db))?.values['backfill-pause']).toBe(false);
  });

  it('When an instance that is not running is stopped, then the action is refused (409) saying so', async () => {
    const answer = await post('instance-stop', { instance: 'v2-a' });
    expect(answer.status).toBe(409);
    expect(answer.json.detail).toBe('v2-a is not running');
  });
});

const CHROMIUM = '/usr/bin/chromium';
const browserMissing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found`;

describe.skipIf(browserMissing !== null && process.env.REQUIRE_BROWSER !== '1')('make workshop: the controls on the page (short form)', () => {
  // Hang guards, not timing goals: a first chromium start on a fresh CI machine, beside the demos of the other
  // worker, took most of the default 30 s (CI at a51bc7f timed out here; the full form allows 120 s to start).
  it('When a control is clicked and the gate refuses, then the page shows the reason and logs the action; without the token the controls stay hidden', { timeout: 180_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.goto(dashboard.url);
      expect(await page.getByTestId('controls').isHidden()).toBe(true);
      await page.goto(`${dashboard.url}?token=${TOKEN}`);
      await page.fill('[data-testid="percent"]', '50');
      await page.click('button[data-action="read-new-percent"]');
      await expect.poll(() => page.getByTestId('control-result').textContent(), { timeout: 60_000 }).toMatch(/set read-new-percent 50: refused: raising read-new-percent skips the read-shift gate/);
      await expect.poll(() => page.locator('[data-testid="action-log"] li.refused').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      expect((await readFlagSet(database.db))?.values['read-new-percent'] ?? 0).toBe(0);
    } finally {
      await browser.close();
    }
  });
});

describe('make workshop: seeding and attribution', () => {
  it('When users are seeded in multi-row batches, then every row exists with its own value', async () => {
    const target = await sqliteTarget().create({ migrateTo: '001-base' });
    try {
      const seeded = await seedUsers(target.db, 1001, { prefix: 'ws' });
      expect(seeded).toHaveLength(1001);
      expect(new Set(seeded.map((u) => u.key)).size).toBe(1001);
      const [row] = await target.db.select<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE name LIKE 'ws%'");
      expect(Number(row!.n)).toBe(1001);
      expect(seeded.at(-1)!.value).toEqual({ name: 'ws1001', email: 'ws1001@example.test' });
    } finally {
      await target.drop();
    }
  });

  it('When an anomaly is found after two actions, then it is put next to the later one, and one found before any action next to none', () => {
    const action = (id: number, atMs: number): ActionRecord => ({ id, at: atMs / 1000, atMs, action: 'verify', title: `action ${id}`, outcome: 'done', detail: '' });
    const actions = [action(1, 1000), action(2, 5000), action(3, 9000)];
    expect(nearestActionBefore(actions, 7000)?.id).toBe(2);
    expect(nearestActionBefore(actions, 500)).toBeNull();
    // A non-monotonic example may name reads older than the action that caused it: the finding's time decides.
    const attributed = attribute({ kind: 'nonMonotonic', at: 2500, step: 'action-1-verify', key: '7', message: 'm' }, actions, (at) => at / 1000, 6500);
    expect(attributed).toMatchObject({ at: 2.5, foundAt: 6.5, after: { id: 2, title: 'action 2', secondsBefore: 1.5 } });
  });
});
