// The common recipe's read ("prefer profile_data whenever it is set"), made runnable through the whole demo on
// MySQL/MariaDB behind nginx: the checker must catch it with exactly its kinds of anomaly and a non-zero exit. The
// other anti-patterns run the same way in make test-full (anti-patterns.full.test.ts), which CI runs.
import { describe, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { ANTI_PATTERN_KINDS, expectCaught, runDemo, SHORT_DEMO } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo SCENARIO=prefer-new-read on MySQL behind the balancer', () => {
  it('When v2 runs the prefer-new-read anti-pattern, then the checker reports exactly its kinds, each first in its step, and the demo exits non-zero', async () => {
    expectCaught(await runDemo({ ...SHORT_DEMO, SCENARIO: 'prefer-new-read' }), ANTI_PATTERN_KINDS['prefer-new-read']!);
  }, 180_000);
});
