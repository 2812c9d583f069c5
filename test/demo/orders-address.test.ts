// `make demo MAPPING=orders-address` on SQLite, short (steps of a second, the load capped: SHORT_DEMO): the second
// worked example (UUID keys, an address parser only code can run, so the backfill and verify run app-side) through
// the whole rollout behind the balancer, under the demo's load with PATCHes, DELETEs and lookups by postcode, judged
// by the same checker. Its own file, so that it goes to a worker of its own; at full pace on SQLite and MySQL/MariaDB
// in orders-address.full.test.ts (make test-full).
import { describe, expect, it } from 'vitest';
import { expectCleanRollout, runDemo, SHORT_DEMO } from './support.ts';

describe('make demo MAPPING=orders-address DB=sqlite (short)', () => {
  it('When the rollout runs with the orders-address mapping on SQLite, then it passes with 0 anomalies, 0 failed requests and exit 0, and the checker judged lookups by postcode', async () => {
    const run = await runDemo({ ...SHORT_DEMO, MAPPING: 'orders-address', DB: 'sqlite' });

    expectCleanRollout(run);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0 });
    expect(run.summary.lookups, run.output.slice(-3000)).toBeGreaterThan(0);
  }, 240_000);
});
