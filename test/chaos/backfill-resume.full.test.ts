// Chaos, short version (make test-full, which CI runs after make test): the backfill killed with -9 mid-run under load and run again
// (load/chaos/backfill-resume.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos backfill-resume (short)', () => {
  it('When the backfill is killed with -9 mid-run under load and started again, then it resumes at its checkpoint, completes with zero drift, and the load fails nothing', async () => {
    const { result, written, output } = await runShort('backfill-resume');

    expect(result.failures, output).toEqual([]);
    expect(result.failedRequests).toBe(0);
    expect(result.anomalies).toBe(0);
    const [, rangeEnd] = result.facts.keyRange as [number, number];
    expect(result.facts.checkpointNextKey as number).toBeLessThan(rangeEnd);
    expect(result.facts.driftAfter).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(100);
    expect(written).toMatchObject({ scenario: 'backfill-resume', passed: true });
  }, CHAOS_TEST_TIMEOUT_MS);
});
