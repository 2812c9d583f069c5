// Chaos, short version (make test-full, which CI runs after make test): SIGTERM during the rolling replacement of v1 by v2 (load/chaos/sigterm-rolling.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos sigterm-rolling (short)', () => {
  it('When both v1s are replaced by v2s with SIGTERM under load, then 0 requests fail, 0 anomalies, and each v1 exits 0', async () => {
    const { result, written, output } = await runShort('sigterm-rolling');

    expect(result.failures, output).toEqual([]);
    expect(result.failedRequests).toBe(0);
    expect(result.anomalies).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(100);
    expect(result.versionsSeen).toEqual(['v1', 'v2']);
    expect(result.facts.exits).toMatchObject({ 'v1-a': { code: 0 }, 'v1-b': { code: 0 } });
    expect(result.facts.aliveAfter).toEqual(['v2-a', 'v2-b']);
    expect(written).toMatchObject({ scenario: 'sigterm-rolling', passed: true, failedRequests: 0 });
  }, CHAOS_TEST_TIMEOUT_MS);
});
