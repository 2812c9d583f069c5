// docs/workshop/sandbox.md cannot drift from the sandbox: exercise A (the rollout by hand) runs here through the
// same endpoints the dashboard's buttons call, and each "predict" answer the guide gives is asserted: the refusal
// texts, the stages, and the database state behind them. (The buttons themselves: controls.browser.full.test.ts.)
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { readFlagSet } from '../../shared/flags/store.ts';
import { ROOT, startSandbox } from './support.ts';
import type { RunningSandbox } from './support.ts';

let sandbox: RunningSandbox | undefined;
let db: Database;

beforeAll(async () => {
  const resultsDir = path.join(path.resolve(ROOT, process.env.RESULTS_DIR || 'results'), 'workshop-test', `exercises-${process.pid}`);
  // 2,000 rows at 10 batches: a backfill of about 10 s, long enough to act while it runs.
  sandbox = await startSandbox(resultsDir, { WORKSHOP_USERS: '2000', WORKSHOP_LOAD_USERS: '200', WORKSHOP_BACKFILL_SLEEP_MS: '1000' });
  db = await connectDatabase(sandbox.databaseUrl, { poolMax: 2 });
}, 120_000);

afterAll(async () => {
  await db?.close();
  await sandbox?.stop();
});

async function act(action: string, body: object = {}): Promise<{ status: number; outcome: string; detail: string }> {
  const response = await fetch(`${sandbox!.origin}api/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sandbox!.token}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { outcome: string; detail: string };
  return { status: response.status, outcome: json.outcome, detail: json.detail };
}

async function backfillDone(): Promise<void> {
  await expect
    .poll(async () => (await db.select<{ status: string }>('SELECT status FROM backfill_runs ORDER BY id DESC LIMIT 1'))[0]?.status, { timeout: 90_000, interval: 500 })
    .toBe('done');
}

describe('docs/workshop/sandbox.md, exercise A', () => {
  it('When the rollout is driven by hand, then each step answers as the guide predicts, up to live', { timeout: 420_000 }, async () => {
    // 1. advance: dual-read.
    expect(await act('rollout-advance')).toMatchObject({ status: 200, outcome: 'done', detail: expect.stringMatching(/^dual-write -> dual-read/) });
    // 2. advance again: the next step is a command, not a flag.
    expect(await act('rollout-advance')).toMatchObject({ status: 409, outcome: 'refused', detail: expect.stringMatching(/not a flag change: npm run backfill/) });
    // 3. backfill, pause, resume; advance while it runs: refused, no completed backfill.
    expect(await act('backfill-start')).toMatchObject({ status: 200, outcome: 'done' });
    expect(await act('backfill-pause')).toMatchObject({ status: 200 });
    expect(await act('rollout-advance')).toMatchObject({ status: 409, detail: expect.stringMatching(/no completed backfill: npm run backfill/) });
    expect(await act('backfill-resume')).toMatchObject({ status: 200 });
    await backfillDone();
    // 4. verify, then read shift 1%, with both v1 still alive (their drift is expected; reads fall back).
    expect(await act('verify')).toMatchObject({ status: 200, outcome: 'done' });
    expect(await act('rollout-advance')).toMatchObject({ status: 200, outcome: 'done', detail: expect.stringMatching(/^backfill -> read-shift 1%/) });
    // 5. stop both v1: the drift they left is now unexplained, and the next read-shift step says so.
    expect(await act('instance-stop', { instance: 'v1-a' })).toMatchObject({ status: 200 });
    expect(await act('instance-stop', { instance: 'v1-b' })).toMatchObject({ status: 200 });
    const refused = await act('rollout-advance');
    expect(refused.status).toBe(409);
    expect(refused.detail).toMatch(/drifted row.* no v1 is alive to explain them: npm run backfill, then npm run verify|older than the last v1/);
    // Backfill again, verify, then every read-shift step and live.
    expect(await act('backfill-start')).toMatchObject({ status: 200 });
    await backfillDone();
    expect(await act('verify')).toMatchObject({ status: 200, detail: expect.stringMatching(/^exit 0/) });
    for (const to of ['read-shift 10%', 'read-shift 50%', 'read-shift 100%', 'live']) {
      expect(await act('rollout-advance')).toMatchObject({ status: 200, outcome: 'done', detail: expect.stringContaining(`-> ${to}`) });
    }
    expect((await readFlagSet(db))?.values['read-trust-new']).toBe(true);
    // D. the emergency brake from live is a rollback, not read-new-percent (fixed at 100 from live on).
    expect(await act('read-new-percent', { percent: 0 })).toMatchObject({ status: 409, detail: expect.stringMatching(/fixed at 100 from live on/) });
  });
});
