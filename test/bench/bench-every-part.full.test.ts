// make bench, smoke-sized, every part but the soak (make test-full; the trigger part too, which only the long mode runs by default): each part runs for a fraction of a second on MySQL/MariaDB,
// and bench.json must come out with the figures the README quotes, sane numbers, a spread and a verdict for every
// goal, the machine, and no database left behind. The real numbers come from `make bench` on a quiet machine; this
// proves the bench still measures something. make test runs two parts the same way (bench.test.ts); that the
// verdicts see a real regression through the noise (a v2 slowed on purpose) is in bench-slowed.full.test.ts.
// The verdict rules themselves are unit-tested in verdict.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PARTS } from '../../load/bench/options.ts';
import { mysqlTarget } from '../support/databases.ts';
import { expectSmokeShape, positiveRatio, runSmoke } from './run-bench.ts';

const target = await mysqlTarget();

describe.skipIf(target.skip)('make bench on MySQL/MariaDB (smoke-sized, every part)', () => {
  it('When every part runs for a moment, then bench.json holds every headline figure with sane numbers, the machine, and the table is printed', { timeout: 240_000 }, async () => {
    // The demo's wall time is read from its latest summary, as make bench reads it.
    const run = await runSmoke(PARTS.filter((part) => part !== 'soak').join(','), (resultsDir) =>
      fs.writeFileSync(path.join(resultsDir, 'demo-summary.json'), JSON.stringify({ scenario: 'rollout', database: 'mysql', passed: true, wallSeconds: 123 })),
    );
    const bench = expectSmokeShape(run);

    for (const key of ['dualWriteVsV1', 'dualWriteP99VsV1', 'dualReadVsV1', 'nginxVsDirect', 'backfillVsLimit', 'p99DuringBackfillVsBaseline']) {
      expect(positiveRatio(bench[key]), `${key} = ${bench[key]}`).toBe(true);
    }
    expect(bench.rssMb).toBeGreaterThan(20);
    expect(bench.rssMb).toBeLessThan(4000);
    expect(bench.machine.cores).toBeGreaterThanOrEqual(1);
    expect(bench.machine.node).toBe(process.version);
    expect(bench.machine.database).toMatch(/\d+\.\d+/);

    const keys = bench.figures.map((f: { key: string }) => f.key);
    expect(keys).toEqual(expect.arrayContaining(['dualWriteCpuVsV1', 'dualWriteUserCpuVsV1', 'putCpuAaControl', 'getCpuAaControl', 'dualReadNew0CpuVsV1', 'dualReadNew0UserCpuVsV1', 'dualReadNew100CpuVsV1', 'dualReadNew100UserCpuVsV1', 'nginxCpuVsDirect', 'nginxOwnCpu', 'nginxAaControl', 'readNew100VsNew0Cpu', 'rssMb', 'rssBareMb', 'cpuV2VsBare']));
    // SYNC=trigger against app: every writer's PUT and a bulk UPDATE on both databases, each measured.
    for (const key of ['triggerV1PutVsApp', 'triggerV2PutVsApp', 'triggerV1PutCpuVsApp', 'triggerBulkUpdateMariadb', 'triggerBulkUpdateSqlite']) {
      const figure = bench.figures.find((f: { key: string }) => f.key === key);
      // A bulk UPDATE of a thousand rows takes milliseconds: its ratio is measured, not meaningful, at this size.
      const measured = key.startsWith('triggerBulk') ? Number.isFinite(figure?.ratio) && figure.ratio > 0 : positiveRatio(figure?.ratio);
      expect(measured, `${key}: ${JSON.stringify(figure)}`).toBe(true);
    }
    // nginx like with like: the same two instances, through nginx and with the load split by the client, and the split
    // load measured again in each round (the A/A row, no goal: the same processes both times, so nothing widens).
    expect(Object.keys(bench.raw.nginx.runs).sort()).toEqual(['balanced', 'split', 'splitAgain']);
    expect(bench.figures.find((f: { key: string }) => f.key === 'nginxAaControl')).toMatchObject({ goal: '-', verdict: null, spread: [expect.any(Number), expect.any(Number)] });
    expect(bench.figures.find((f: { key: string }) => f.key === 'nginxVsDirect')?.noise).toBeUndefined();
    // The read part's goals are judged beside its second v1.
    expect(bench.figures.find((f: { key: string }) => f.key === 'dualReadNew0CpuVsV1')?.noise).toMatchObject({ control: 'v1 again vs v1' });
    // Where the time went, part by part.
    expect(Object.keys(bench.partSeconds)).toEqual(['setup', 'write', 'read', 'nginx', 'memory', 'trigger', 'backfill', 'live', 'demo']);
    expect(bench.figures.find((f: { key: string }) => f.key === 'rssMb').goal).toBe('<= 120 MB');
    // The soak is the long mode's: not in a default run.
    expect(keys).not.toContain('soakRssGrowth');
    expect(bench.testOnly).toBeUndefined();
    const v1Writes = bench.raw.write.v1[0];
    expect(v1Writes.requests).toBeGreaterThan(0);
    expect(v1Writes.p99).toBeGreaterThanOrEqual(v1Writes.p50);
    expect(bench.figures.find((f: { key: string }) => f.key === 'demoWallSeconds').candidate).toMatch(/^123 s/);
    // That summary has no per-step p99: the drift figure is unmeasured, so inconclusive (never a pass).
    expect(bench.figures.find((f: { key: string }) => f.key === 'demoP99Drift')).toMatchObject({ goal: '<= 1.3x', verdict: 'inconclusive', spread: null });
    expect(bench.goalsInconclusive).toContain('demoP99Drift');
  });
});
