// make bench, smoke-sized, in make test: two parts (write, backfill) run for a fraction of a second on
// MySQL/MariaDB, and bench.json must come out in shape: their figures measured, each with a spread and a verdict,
// the exit code following the verdicts, the table printed, no database left behind (an unmeasured figure judged
// inconclusive, never a pass: verdict.test.ts). Every part runs in bench-every-part.full.test.ts (make test-full); that the verdicts see a real
// regression through the noise (a v2 slowed on purpose) is in bench-slowed.full.test.ts.
// The verdict rules themselves are unit-tested in verdict.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { expectSmokeShape, positiveRatio, runBench, runSmoke } from './run-bench.ts';

const target = await mysqlTarget();

describe.skipIf(target.skip)('make bench on MySQL/MariaDB (smoke-sized)', () => {
  it('When two parts run for a moment, then bench.json holds their figures measured with spreads and verdicts, the exit code follows the verdicts, and the table is printed', { timeout: 180_000 }, async () => {
    const bench = expectSmokeShape(await runSmoke('write,backfill'));

    for (const key of ['dualWriteVsV1', 'dualWriteP99VsV1', 'backfillVsLimit']) expect(positiveRatio(bench[key]), `${key} = ${bench[key]}`).toBe(true);
    expect(Object.keys(bench.partSeconds)).toEqual(['setup', 'write', 'backfill']);
    // Measured by the two parts: one ratio per round (one round here), a spread and a verdict each.
    const keys = bench.figures.map((f: { key: string }) => f.key);
    expect(keys).toEqual(expect.arrayContaining(['dualWriteCpuVsV1', 'dualWriteVsV1', 'dualWriteP99VsV1', 'backfillVsLimit']));
    for (const key of ['dualWriteCpuVsV1', 'dualWriteVsV1', 'backfillVsLimit']) {
      expect(bench.figures.find((f: { key: string }) => f.key === key), key).toMatchObject({ verdict: expect.any(String), spread: [expect.any(Number), expect.any(Number)] });
    }
    // The A/A control (a second v1 beside v1) and the user-mode CPU are measured, and carry no goal: they say how
    // far two processes of the same code differ and where the CPU went, never pass or fail.
    for (const key of ['putCpuAaControl', 'dualWriteUserCpuVsV1']) {
      expect(bench.figures.find((f: { key: string }) => f.key === key), key).toMatchObject({ goal: '-', verdict: null, spread: [expect.any(Number), expect.any(Number)] });
    }
    // Every goal of the write part is judged beside its A/A control, with the control's rounds and noise factor.
    for (const key of ['dualWriteCpuVsV1', 'dualWriteVsV1', 'dualWriteP99VsV1']) {
      expect(bench.figures.find((f: { key: string }) => f.key === key)?.noise, key).toMatchObject({ control: 'v1 again vs v1', perRound: [expect.any(Number)], factor: expect.any(Number), judgedOn: [expect.any(Number), expect.any(Number)] });
    }
    // The parts not run add no figure.
    expect(keys).not.toContain('nginxVsDirect');
  });

  it('When BENCH_SECONDS is not a number, then it exits 2 with one line naming it and writes nothing', async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bad-'));
    try {
      const { code, output } = await runBench({ RESULTS_DIR: resultsDir, BENCH_SECONDS: 'soon' });
      expect(code).toBe(2);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).toMatch(/BENCH_SECONDS must be a number/);
      expect(fs.existsSync(path.join(resultsDir, 'bench.json'))).toBe(false);
    } finally {
      fs.rmSync(resultsDir, { recursive: true, force: true });
    }
  });
});
