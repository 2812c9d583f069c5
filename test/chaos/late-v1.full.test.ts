// Chaos, short version (make test-full, which CI runs after make test): a v1 started after live and after new-only under load (load/chaos/late-v1.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos late-v1 (short)', () => {
  it('When a v1 is started after live and again after new-only under load, then it refuses with exit 3 each time, nothing registers, no alarm, no request fails but a clean lease refusal, and 0 anomalies', async () => {
    const { result, written, output } = await runShort('late-v1');

    expect(result.failures, output).toEqual([]);
    expect(result.failedRequests).toBe(result.facts.leaseRefusals);
    expect(result.anomalies).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(50);
    expect(result.facts.refusals).toMatchObject({ live: { code: 3 }, 'new-only': { code: 3 } });
    expect(result.facts).toMatchObject({ finalStage: 'new-only', alarms: 0 });
    expect(written).toMatchObject({ scenario: 'late-v1', passed: true });
  }, CHAOS_TEST_TIMEOUT_MS);
});
