// Chaos, short version (make test-full, which CI runs after make test): kill -9 of a v2 mid-load (load/chaos/kill-v2.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos kill-v2 (short)', () => {
  it('When one v2 is killed with -9 under load, then no acknowledged write is lost, only requests in flight at the kill fail, the balancer routes around it and the registry drops it within 3 heartbeats', async () => {
    const { result, written, output } = await runShort('kill-v2');

    expect(result.failures, output).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.anomalies).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(100);
    expect(result.failedRequests).toBeLessThanOrEqual(result.facts.inFlightAtKill as number);
    expect(result.facts.answeredAfterKill as number).toBeGreaterThan(0);
    expect(result.facts.registryGoneMs as number).toBeLessThanOrEqual(result.facts.registryBudgetMs as number);
    expect(result.instancesSeen).toEqual(['v1-a', 'v2-a', 'v2-b']);
    expect(written).toMatchObject({ scenario: 'kill-v2', passed: true, anomalies: 0, requests: result.requests });
  }, CHAOS_TEST_TIMEOUT_MS);
});
