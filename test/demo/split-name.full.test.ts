// `make demo MAPPING=split-name`: the whole rollout with the worked example's mapping (profile_data split into
// first_name/last_name) ends as the default one does, with 0 anomalies and 0 failed requests, on SQLite and on
// MySQL/MariaDB behind the balancer. The core path of the same mapping runs in make test
// (test/template/split-name.test.ts); this long form runs in make test-full.
import { describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { runDemo } from './support.ts';

const mysql = await mysqlTarget();

describe('make demo MAPPING=split-name', () => {
  const expectPassed = async (db: string) => {
    const run = await runDemo({ MAPPING: 'split-name', DB: db });

    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0 });
    expect(run.summary.versionsSeen).toEqual(expect.arrayContaining(['v1', 'v2']));
  };

  it('When the rollout runs with the split-name mapping on SQLite, then it ends with 0 anomalies, 0 failed requests and exit 0', () => expectPassed('sqlite'), 600_000);

  it.skipIf(mysql.skip !== null)('When the rollout runs with the split-name mapping on MySQL/MariaDB, then it ends with 0 anomalies, 0 failed requests and exit 0', () => expectPassed('mysql'), 600_000);
});
