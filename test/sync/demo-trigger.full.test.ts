// `make demo SYNC=trigger` at full pace (make test-full): the whole rollout with the sync triggers instead of app
// dual-write, under load through the balancer, judged by the same checker, on SQLite and MySQL/MariaDB. make test
// runs the short form on each (demo-trigger-sqlite.test.ts, demo-trigger-mysql.test.ts).
import { describe, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { expectTriggerRollout } from './trigger-rollout.ts';

const mysql = await mysqlTarget();

describe('make demo SYNC=trigger, the load at full pace', () => {
  it('When the rollout runs with SYNC=trigger on SQLite, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout({ DB: 'sqlite' }), 600_000);

  it.skipIf(mysql.skip !== null)('When the rollout runs with SYNC=trigger on MySQL/MariaDB, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout({ DB: 'mysql' }), 600_000);
});
