// The demo is the project's main claim: a v1 -> v2 rollout under load behind a real balancer where no user
// sees missing or stale data. This test runs it for real on MySQL/MariaDB behind nginx, short: steps of a second
// and the load capped (SHORT_DEMO); at full pace in demo-full-pace.full.test.ts (make test-full). That the checker
// can fail is shown by prefer-new-read.test.ts (its own file, so the two demos run on two workers at once) and by
// the other anti-patterns in make test-full.
import { describe, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { expectCleanRollout, runDemo, SHORT_DEMO } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo on MySQL behind the balancer', () => {
  it('When the correct rollout runs under load, then it ends with 0 anomalies, 0 failed requests, exit 0, and both versions served at once', async () => {
    expectCleanRollout(await runDemo({ ...SHORT_DEMO }));
  }, 240_000);
});
