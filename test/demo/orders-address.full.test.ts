// `make demo MAPPING=orders-address`: the second worked example (UUID keys, an address parser only code can run, so
// the backfill and verify run app-side) through the whole rollout behind the balancer, under the demo's load with
// PATCHes, DELETEs and lookups by postcode, at full pace on SQLite and on MySQL/MariaDB (UUID keys in a CHAR(36)
// ascii_bin key, the app-side backfill's compare-and-set under InnoDB's locking, the lookup index stepped aside by
// 007 and the contract). It must end as the default demo does: 0 anomalies, 0 failed requests, exit 0, both
// versions seen, and lookups judged. And the lookups can fail it: answered through the new column's index before
// live (lookup-new-early), rows v1 changed are missed by their new postcode. In make test-full; make test runs the
// short form on SQLite (orders-address.test.ts).
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { ANTI_PATTERN_KINDS, expectCaught, runDemo } from './support.ts';

const mysql = await mysqlTarget();

describe('make demo MAPPING=orders-address', () => {
  const expectPassed = async (db: string) => {
    const run = await runDemo({ MAPPING: 'orders-address', DB: db });

    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0 });
    expect(run.summary.versionsSeen).toEqual(expect.arrayContaining(['v1', 'v2']));
    expect(run.summary.lookups).toBeGreaterThan(0);
    // The backfill walked UUID keys (keyset batches), and every step served requests.
    expect(run.output).toMatch(/backfill run #\d+ \(forward\) over keys [0-9a-f-]{36}\.\.[0-9a-f-]{36}/);
    expect(run.summary.steps.every((step) => step.requests > 0)).toBe(true);
  };

  it('When the rollout runs with the orders-address mapping on SQLite, then it ends with 0 anomalies, 0 failed requests and exit 0', () => expectPassed('sqlite'), 600_000);

  it.skipIf(mysql.skip !== null)('When the rollout runs with the orders-address mapping on MySQL/MariaDB, then it ends with 0 anomalies, 0 failed requests and exit 0', () => expectPassed('mysql'), 600_000);

  it('When v2 answers lookups by postcode through the index over shipping_address before live (lookup-new-early) on SQLite, then the checker reports exactly its kinds (stale: missed by a lookup) and the demo exits non-zero', async () => {
    expectCaught(await runDemo({ MAPPING: 'orders-address', DB: 'sqlite', SCENARIO: 'lookup-new-early' }), ANTI_PATTERN_KINDS['lookup-new-early']!);
  }, 180_000);
});
