// make test-full: the demo as `make demo` runs it, the load at full pace (as fast as the answers come, 8
// connections), on MySQL/MariaDB behind nginx. make test runs it with the load capped (demo.test.ts).
import { describe, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { expectCleanRollout, runDemo } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo on MySQL behind the balancer, the load at full pace', () => {
  it('When the correct rollout runs under load at full pace, then it ends with 0 anomalies, 0 failed requests, exit 0, and both versions served at once', async () => {
    expectCleanRollout(await runDemo({}));
  }, 300_000);
});
