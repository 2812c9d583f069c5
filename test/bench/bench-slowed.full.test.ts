// make test-full (CI runs it after make test): the bench's verdicts see a real regression through the noise. A
// v2 slowed on purpose (test only) must be judged a fail in every round, and the run must exit 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { runBench } from './run-bench.ts';

const target = await mysqlTarget();

describe.skipIf(target.skip)('make bench with a deliberately slowed v2', () => {
  it('When v2 is slowed on purpose by 20 ms of CPU per request (test only), then the bench judges its PUT throughput and CPU per request a fail in every round and exits 1', { timeout: 120_000 }, async () => {
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-slow-'));
    try {
      const { code, output } = await runBench({
        RESULTS_DIR: resultsDir,
        BENCH_SECONDS: '0.5',
        BENCH_REPEAT: '2',
        BENCH_CONNECTIONS: '4',
        DB_POOL_MAX: '4',
        BENCH_PARTS: 'write',
        BENCH_TEST_SLOW_V2_MS: '20',
      });
      const bench = JSON.parse(fs.readFileSync(path.join(resultsDir, 'bench.json'), 'utf8'));
      expect(bench.failure, output).toBeNull();
      const figure = (key: string) => bench.figures.find((f: { key: string }) => f.key === key);
      // 20 ms per request caps v2 at 50 req/s on one core whatever the machine does; v1 answers a PUT in ~1 ms of CPU.
      expect(figure('dualWriteVsV1').verdict, output).toBe('fail');
      expect(figure('dualWriteCpuVsV1').verdict, output).toBe('fail');
      expect(figure('dualWriteCpuVsV1').spread[0]).toBeGreaterThan(1.05);
      expect(bench.goalsMissed).toEqual(expect.arrayContaining(['dualWriteVsV1', 'dualWriteCpuVsV1']));
      expect(code).toBe(1);
      // Nobody can mistake it for a measurement.
      expect(bench.testOnly).toMatch(/TEST ONLY/);
      expect(bench.settings.testSlowV2Ms).toBe(20);
      expect(output).toMatch(/TEST ONLY: every v2 burns 20 ms of CPU per request/);
    } finally {
      fs.rmSync(resultsDir, { recursive: true, force: true });
    }
  });

});
