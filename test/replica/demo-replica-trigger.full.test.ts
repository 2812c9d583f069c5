// make demo DB=mysql-replica SYNC=trigger (make test-full): the demo's own MariaDB primary, binary logging on (its
// GTID replica reads it), with the same least-privilege accounts as DB=mysql. With binary logging on, CREATE TRIGGER
// by an account without SUPER needs log_bin_trust_function_creators=1, which the demo sets on its primary as an
// administrator would; the migrator then installs the sync triggers in the expand, and the rollout runs to the
// contract with the replica in place. Without the setting the same run stops at the expand with the one-line
// refusal naming it (seen by hand; the refusal itself is tested in test/sync/binlog-triggers.full.test.ts).
import { describe, expect, it } from 'vitest';
import { SHORT_DEMO } from '../demo/support.ts';
import { expectTriggerRollout } from '../sync/trigger-rollout.ts';
import { replicaUnavailable, title } from './support.ts';

describe.skipIf(replicaUnavailable !== null)(title('make demo DB=mysql-replica SYNC=trigger (short)'), () => {
  it('When the rollout runs with SYNC=trigger on a binlogging primary with a replica, then the migrator (no SUPER) installs both triggers and the run passes with 0 anomalies and 0 drift', async () => {
    const run = await expectTriggerRollout({ ...SHORT_DEMO, DB: 'mysql-replica' });

    expect(run.output).toMatch(/private MariaDB primary :\d+ with GTID replica :\d+, accounts dwdr_[0-9a-f]+_\*/);
    expect(run.output).toContain('sync triggers installed: up, down');
    expect(run.output).toMatch(/on v1's own account \(dwdr_[0-9a-f]+_app_v1: old columns only, no DDL\)/);
    expect(run.output).not.toMatch(/CREATE TRIGGER is refused/);
  }, 300_000);
});
