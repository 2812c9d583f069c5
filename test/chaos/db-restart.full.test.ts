// Chaos, short version (make test-full, which CI runs after make test): a database restart mid-load, on a PRIVATE MariaDB server (load/chaos/db-restart.ts).
// Every failure must be a clean refusal in the outage window: the app's 503 (database_unavailable, lease_lost)
// until an instance's lease lapses, then nginx's 502 once every slot closed its port (docs/fences.md); the
// requests after recovery succeed.
import { describe, expect, it } from 'vitest';
import { privateMariadbUnavailable } from '../../load/infra/private-mariadb.ts';
import { mysqlTarget } from '../support/databases.ts';
import { CHAOS_TEST_TIMEOUT_MS, runShort } from './support.ts';

const mysql = await mysqlTarget();
const noPrivateServer = privateMariadbUnavailable();
if (noPrivateServer && process.env.REQUIRE_MYSQL === '1') throw new Error(`REQUIRE_MYSQL=1 but ${noPrivateServer}`);

describe.skipIf(mysql.skip ?? noPrivateServer)('chaos db-restart (short)', () => {
  it('When the database stops and restarts under load, then every instance stops serving meanwhile, failures are clean refusals within the outage only, the same instances recover, and no acknowledged write is lost', async () => {
    const { result, written, output } = await runShort('db-restart');

    expect(result.failures, output).toEqual([]);
    expect(result.anomalies).toBe(0);
    expect(result.facts.failedInWindow as number, 'the outage was felt by the load').toBeGreaterThan(0);
    expect(result.facts.notCleanRefusal).toBe(0);
    expect(Object.keys(result.facts.healthz503AfterMs as object).sort()).toEqual(['v1-a', 'v2-a', 'v2-b']);
    expect(Object.keys(result.facts.recoveredAfterMs as object).sort()).toEqual(['v1-a', 'v2-a', 'v2-b']);
    expect(result.failedRequests).toBeLessThanOrEqual(result.facts.requestsInOutageWindow as number);
    expect(written).toMatchObject({ scenario: 'db-restart', passed: true, anomalies: 0 });
  }, CHAOS_TEST_TIMEOUT_MS);
});
