// `make demo SYNC=trigger` on MySQL/MariaDB, short (steps of a second, the load capped: SHORT_DEMO): the triggers'
// MariaDB form under the whole rollout, through nginx, judged by the same checker; at full pace in
// demo-trigger.full.test.ts (make test-full).
import { describe, it } from 'vitest';
import { SHORT_DEMO } from '../demo/support.ts';
import { mysqlTarget } from '../support/databases.ts';
import { expectTriggerRollout } from './trigger-rollout.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo SYNC=trigger DB=mysql (short)', () => {
  it('When the rollout runs with SYNC=trigger on MySQL/MariaDB, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout({ ...SHORT_DEMO, DB: 'mysql' }), 300_000);
});
