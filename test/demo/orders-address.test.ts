// `make demo MAPPING=orders-address`, short: the second worked example (UUID keys, an address parser only code can
// run, so the backfill and verify run app-side) through the whole rollout behind the balancer, under the demo's
// load with PATCHes and DELETEs, on SQLite. It must end as the default demo does: 0 anomalies, 0 failed requests,
// exit 0, and both versions seen. The same on MariaDB runs in make test-full (orders-address.full.test.ts).
import { describe, expect, it } from 'vitest';
import { runDemo } from './support.ts';

describe('make demo MAPPING=orders-address (short)', () => {
  it('When the rollout runs with the orders-address mapping on SQLite, then it ends with 0 anomalies, 0 failed requests and exit 0', async () => {
    const run = await runDemo({ MAPPING: 'orders-address', DB: 'sqlite' });

    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0 });
    expect(run.summary.versionsSeen).toEqual(expect.arrayContaining(['v1', 'v2']));
    // The app-side backfill ran (a mapping with no SQL form), and every step served requests.
    expect(run.output).toMatch(/backfill run #\d+ \(forward\) over keys [0-9a-f-]{36}\.\.[0-9a-f-]{36}/);
    expect(run.summary.steps.every((step) => step.requests > 0)).toBe(true);
  }, 300_000);
});
