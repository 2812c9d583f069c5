// Chaos under SYNC=trigger, short versions (make test-full, which CI runs after make test): every fault scenario as
// `make chaos SYNC=trigger CHAOS_SHORT=1` runs it, on MariaDB behind nginx, each with the mode recorded and both
// sync triggers installed in its expand phase (load/chaos/harness.ts). Where a scenario's promise changes under the
// triggers (late-v1, frozen-v1: v1 may serve live and new-only; crash-between-writes: the crash leaves no drift),
// the scenario checks the changed promise; docs/sync-strategies.md says what each covers.
import { describe, expect, it } from 'vitest';
import { SCENARIO_NAMES } from '../../load/chaos/harness.ts';
import { privateMariadbUnavailable } from '../../load/infra/private-mariadb.ts';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();
const noPrivateServer = privateMariadbUnavailable();
if (noPrivateServer && process.env.REQUIRE_MYSQL === '1') throw new Error(`REQUIRE_MYSQL=1 but ${noPrivateServer}`);

/** What each scenario's changed (or unchanged) promise leaves in its facts under the triggers. */
const TRIGGER_FACTS: Partial<Record<(typeof SCENARIO_NAMES)[number], Record<string, unknown>>> = {
  'crash-between-writes': { crashes: 2, differingBeforeBackfill: 0, driftAfterBackfill: 0 },
  'backfill-resume': { driftAfter: 0 },
  'late-v1': { finalStage: 'new-only', alarms: 0, served: { live: { drainExit: 0 } } },
  'frozen-v1': { servedWhileFrozen: 0, failedAfterResume: 0, finalStage: 'live', finalAlarms: 0, heldWrite: { landedIn: 'live', inProfileData: true, answer: 200, readBackByV2: true } },
  'cut-off-v2': { servedWhileCut: 0, failedAfterPortClosed: 0, finalStage: 'live', alarms: 0 },
};

describe.skipIf(mysql.skip)('chaos under SYNC=trigger (short)', () => {
  it.for(SCENARIO_NAMES.map((name) => [name] as const))(
    'When %s runs with SYNC=trigger, then the mode is recorded, both triggers are installed, it passes with 0 anomalies',
    { timeout: CHAOS_TEST_TIMEOUT_MS },
    async ([name], { skip }) => {
      if (name === 'db-restart' && noPrivateServer) skip(`db-restart needs a private MariaDB server: ${noPrivateServer}`);
      const { result, written, output } = await runShort(name, { sync: 'trigger' });

      expect(output).toContain('sync mode trigger recorded (stage expand)');
      expect(output).toContain('sync triggers installed: up, down');
      expect(result.failures, output).toEqual([]);
      expect(result.anomalies).toBe(0);
      expect(result.failedRequests).toBeLessThanOrEqual(result.budget.failedRequests);
      expect(result.acknowledgedWrites, output).toBeGreaterThan(50);
      expect(result.facts, output).toMatchObject(TRIGGER_FACTS[name] ?? {});
      if (name === 'late-v1') {
        // The late v1 served: it answered requests through the balancer in live and again in new-only.
        const served = result.facts.served as Record<string, { answered: number }>;
        expect(served.live!.answered, output).toBeGreaterThan(0);
        expect(served['new-only']!.answered, output).toBeGreaterThan(0);
      }
      if (name === 'frozen-v1') expect(result.facts.servingAgainAfterMs, output).toEqual(expect.any(Number));
      expect(written).toMatchObject({ scenario: name, sync: 'trigger', passed: true, anomalies: 0 });
    },
  );
});
