// `make demo MAPPING=orders-address` on MySQL/MariaDB behind the balancer (the SQLite short form runs in make test):
// UUID keys in a CHAR(36) ascii_bin key, the app-side backfill's compare-and-set under InnoDB's locking, the
// lookup index stepped aside by 007 and the contract, PATCHes and DELETEs in the load: 0 anomalies, 0 failed requests.
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { runDemo } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo MAPPING=orders-address on MySQL/MariaDB', () => {
  it('When the rollout runs with the orders-address mapping on MySQL/MariaDB, then it ends with 0 anomalies, 0 failed requests and exit 0', async () => {
    const run = await runDemo({ MAPPING: 'orders-address', DB: 'mysql' });

    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0 });
    expect(run.summary.versionsSeen).toEqual(expect.arrayContaining(['v1', 'v2']));
  }, 600_000);
});
