// make demo interrupted as a workshop attendee interrupts it: Ctrl-C (SIGINT to the whole foreground job), SIGTERM,
// a second Ctrl-C while it cleans up, and a kill -9 of the orchestrator alone. Whatever the moment, nothing the
// run started may survive it: no process, no listening port, no database on the shared server.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { SHORT_DEMO } from '../demo/support.ts';
import { interruptedRuns, leftovers, expectNothingLeft } from './support.ts';

const mysql = await mysqlTarget();
const runs = interruptedRuns();
// Paced like the short demos (SHORT_DEMO): what is tested is the interrupt, not the load, and at full pace each of
// these runs took both cores until it was stopped.
const startDemo = (env: Record<string, string>) => runs.start('load/rollout/demo.ts', { ...SHORT_DEMO, DEMO_STEP_SECONDS: '2', DEMO_SEED_USERS: '50', DASHBOARD_PORT: '0', ...env });

const summary = () => runs.readJson('demo-summary.json');

describe('make demo, interrupted', () => {
  it('When Ctrl-C reaches the demo mid-step (SQLite, a v2 starting beside two v1 behind the balancer), then it says what it stops, exits 130, leaves no process or port, and the summary is marked incomplete, not judged', async () => {
    const run = startDemo({ DB: 'sqlite' });
    await run.waitForOutput(/== step 2:/);

    run.signalGroup('SIGINT');
    const exit = await run.exited;

    expect(exit.code, run.output()).toBe(130);
    expect(run.output()).toMatch(/^interrupted \(SIGINT\): stopping .*instances?.*(nginx|the Node proxy)/m);
    expectNothingLeft(await leftovers(run), run);
    expect(run.seen().ports.length, 'ports seen while the demo ran (balancer, dashboard, instances)').toBeGreaterThanOrEqual(3);
    expect(summary()).toMatchObject({ passed: false, judged: false, incomplete: true, interruptedBy: 'SIGINT', step: '2-dual-write' });
    expect(run.output()).not.toMatch(/^PASSED/m);
    expect(fs.existsSync(path.join(runs.resultsDir(), 'history.jsonl'))).toBe(true);
  }, 120_000);

  it('When the terminal window is closed under the demo (every write to the terminal fails, then SIGHUP arrives), then it still stops everything and exits 129 with the summary marked incomplete', async () => {
    const run = startDemo({ DB: 'sqlite' });
    await run.waitForOutput(/registry: v1:2 v2:0/);

    // A closing window hangs up the terminal and signals the job in no fixed order: here the writes fail first.
    run.closeTerminal();
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.signalGroup('SIGHUP');
    const exit = await Promise.race([run.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);

    expect(exit).toMatchObject({ code: 129 });
    expectNothingLeft(await leftovers(run), run);
    expect(summary()).toMatchObject({ passed: false, judged: false, incomplete: true, interruptedBy: 'SIGHUP' });
  }, 120_000);

  it.skipIf(mysql.skip)('When SIGTERM reaches the demo during start-up (MySQL) and a second Ctrl-C arrives while it cleans up, then it exits 143 and leaves no process, no port, no database and no account', async () => {
    const run = startDemo({ DB: 'mysql' });
    await run.waitForOutput(/== step 0:/);
    const database = /MySQL database (dwdr_demo_\w+)/.exec(run.output())![1]!;
    // Still step 0, with the v1s up: their drain makes the cleanup last long enough for the second signal to
    // arrive during it (with only the dashboard and the database to stop, it can end within one poll).
    await run.waitForOutput(/registry: v1:2 v2:0/);

    run.signalGroup('SIGTERM');
    await run.waitForOutput(/^interrupted \(SIGTERM\)/m, 10_000);
    run.signalGroup('SIGINT');
    const exit = await run.exited;

    expect(exit.code, run.output()).toBe(143);
    expect(run.output()).toMatch(/^interrupted again \(SIGINT\): killing what is left now/m);
    expectNothingLeft(await leftovers(run, { databases: [database] }), run);
    expect(summary()).toMatchObject({ passed: false, judged: false, incomplete: true, interruptedBy: 'SIGTERM' });
  }, 120_000);

  it.skipIf(mysql.skip)('When the demo orchestrator alone is killed with SIGKILL once its instances and nginx run (MySQL), then they, its database and its accounts are gone within 30 s without it', async () => {
    const run = startDemo({ DB: 'mysql' });
    await run.waitForProcess(/app-v1\/server\.[tj]s/, 2);
    await run.waitForProcess(/nginx/);

    process.kill(run.pid, 'SIGKILL');
    await run.exited;

    // The reaper stops what is left (SIGTERM, SIGKILL 5 s later) and the instances stop themselves when their parent
    // is gone (exit-with-parent.ts, 10 s at most): 30 s is that bound on a machine three times slower. (A CI run on a
    // loaded machine once found 2 processes left at 15 s; the failure now names them and what the reaper said.)
    expectNothingLeft(await leftovers(run, { withinMs: 30_000 }), run);
    expect(run.seen().processes.filter((p) => /app-v1|nginx/.test(p.command)).length, run.output()).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
