// Chaos, short version (make test-full, which CI runs after make test): a v1 frozen (SIGSTOP) across the live gate and resumed under load (load/chaos/frozen-v1.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('chaos frozen-v1 (short)', () => {
  it('When a v1 is frozen across the live gate and resumed under load, then it serves nothing, the alarm fires, it exits 3, no request invoked after the resume fails, the alarm\'s recovery ends in a clean live, a write it sent before the freeze that lands after the gate is in profile_data (the fence), and 0 anomalies', async () => {
    const { result, written, output } = await runShort('frozen-v1');

    expect(result.failures, output).toEqual([]);
    expect(result.anomalies).toBe(0);
    expect(result.acknowledgedWrites, output).toBeGreaterThan(50);
    expect(result.facts).toMatchObject({ exit: { code: 3 }, servedAfterFreeze: 0, failedAfterResume: 0, finalStage: 'live', finalAlarms: 0 });
    expect(result.facts.alarms as number).toBeGreaterThan(0);
    // The PUT held on the wire across the gate: landed in live, carried into profile_data by the up trigger,
    // acknowledged, and read back through a v2.
    expect(result.facts.heldWrite, output).toMatchObject({ landedIn: 'live', inProfileData: true, answer: 200, readBackByV2: true });
    expect(result.failedRequests).toBeLessThanOrEqual(result.facts.handedWhileFrozen as number);
    expect(written).toMatchObject({ scenario: 'frozen-v1', passed: true });
  }, CHAOS_TEST_TIMEOUT_MS);
});
