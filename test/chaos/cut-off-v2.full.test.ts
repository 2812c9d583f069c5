// Chaos, short version (make test-full, which CI runs after make test): a v2 cut off from the primary in live, a rollback while it is cut off, the link back, the recovery (load/chaos/cut-off-v2.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos cut-off-v2 (short)', () => {
  it('When a v2 is cut off from the primary in live under load and a rollback runs meanwhile, then its port closes before its lease would end, the rollback completes, it serves again only with the rollback\'s flags, no request fails after its port closed, the recovery ends clean, and 0 anomalies', async () => {
    const { result, written, output } = await runShort('cut-off-v2');

    expect(result.failures, output).toEqual([]);
    expect(result.anomalies).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(50);
    expect(result.facts.portClosedAfterMs as number).toBeLessThan(result.facts.leaseWindowMs as number);
    expect(result.facts).toMatchObject({ rollback: 'completed', servedWhileCut: 0, failedAfterPortClosed: 0, finalStage: 'live', alarms: 0 });
    const first = result.facts.firstAnswerAfterLinkBack as { status: number; flagSetVersion: number; rollbackVersion: number };
    expect(first.status).toBe(200);
    expect(first.flagSetVersion).toBeGreaterThanOrEqual(first.rollbackVersion);
    expect(result.failedRequests).toBeLessThanOrEqual(result.facts.inFlightAtCut as number);
    expect(written).toMatchObject({ scenario: 'cut-off-v2', passed: true });
  }, CHAOS_TEST_TIMEOUT_MS);
});
