// make test-full (CI runs it after make test): make chaos and make bench interrupted at their most telling moments: during the backfill process of a chaos
// scenario (Ctrl-C), beside a private MariaDB server that the scenario restarts (a closed terminal: SIGHUP), and while
// the bench starts its instances (SIGTERM). Nothing the run started may survive: no process, no listening
// port, no database on the shared server, no private MariaDB data folder.
import { describe, expect, it } from 'vitest';
import { privateMariadbUnavailable } from '../../load/infra/private-mariadb.ts';
import { mysqlTarget } from '../support/databases.ts';
import { interruptedRuns, leftovers, expectNothingLeft } from './support.ts';

const mysql = await mysqlTarget();
const runs = interruptedRuns();

describe.skipIf(mysql.skip)('make chaos and make bench, interrupted', () => {
  it('When Ctrl-C reaches make chaos while its backfill process runs under load, then the backfill, the instances and the balancer stop, the database is dropped, and the scenario is marked incomplete, exit 130', async () => {
    const run = runs.start('load/chaos/run.ts', { SCENARIO: 'backfill-resume', CHAOS_SHORT: '1' });
    await run.waitForProcess(/cli\/backfill\.[tj]s/);

    run.signalGroup('SIGINT');
    const exit = await run.exited;

    expect(exit.code, run.output()).toBe(130);
    expect(run.output()).toMatch(/^interrupted \(SIGINT\): stopping .*instances.*backfill/m);
    expectNothingLeft(await leftovers(run), run);
    expect(run.seen().databases.length).toBe(1);
    expect(runs.readJson('chaos-backfill-resume.json')).toMatchObject({ passed: false, judged: false, incomplete: true, interruptedBy: 'SIGINT' });
    expect(run.output()).not.toMatch(/^(PASSED|FAILED)/m);
  }, 120_000);

  it.skipIf(privateMariadbUnavailable())('When the terminal of make chaos db-restart closes (SIGHUP) while its private MariaDB serves the instances, then the server and its data folder are gone too, exit 129', async () => {
    const run = runs.start('load/chaos/run.ts', { SCENARIO: 'db-restart', CHAOS_SHORT: '1' });
    await run.waitForProcess(/app-v[12]\/server\.[tj]s/);

    run.signalGroup('SIGHUP');
    const exit = await run.exited;

    expect(exit.code, run.output()).toBe(129);
    expectNothingLeft(await leftovers(run), run);
    expect(run.seen().dataDirs.length, 'private MariaDB data folders seen').toBe(1);
  }, 120_000);

  it('When SIGTERM reaches make bench while its instances start, then they stop, its database is dropped, and bench.json is written marked incomplete, exit 143', async () => {
    const run = runs.start('load/bench/index.ts', { BENCH_PARTS: 'write', BENCH_SECONDS: '2', BENCH_REPEAT: '2' });
    await run.waitForProcess(/app-v2\/server\.[tj]s/);

    run.signalGroup('SIGTERM');
    const exit = await run.exited;

    expect(exit.code, run.output()).toBe(143);
    expectNothingLeft(await leftovers(run), run);
    expect(run.seen().databases).toEqual([`bench_http_${run.pid}`]);
    expect(runs.readJson('bench.json')).toMatchObject({ passed: false, judged: false, incomplete: true, interruptedBy: 'SIGTERM' });
    // Interrupted while setting up, or just after, as the write part starts its own instances.
    expect(['setup', 'write']).toContain(runs.readJson('bench.json').step);
  }, 120_000);
});
