// make test-full: the common recipe's other pitfalls, made runnable through the whole demo (make demo SCENARIO=<name>),
// on MySQL/MariaDB behind nginx, the load at full pace: each must be caught with exactly its kinds of anomaly, each
// first seen in its window of steps, and a non-zero exit. make test runs the common recipe's read with the load
// capped (prefer-new-read.test.ts); the checker's rules for every kind are unit-tested in test/load/checker.test.ts.
import { describe, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { ANTI_PATTERN_KINDS, expectCaught, runDemo } from './support.ts';

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip)('make demo anti-pattern scenarios on MySQL behind the balancer', () => {
  it.each(Object.entries(ANTI_PATTERN_KINDS).filter(([scenario]) => scenario !== 'one-way-trigger'))('When v2 runs the %s anti-pattern, then the checker reports exactly its kinds, each first in its step, and the demo exits non-zero', async (scenario, expected) => {
    expectCaught(await runDemo({ SCENARIO: scenario }), expected);
  }, 180_000);

  // The whole rollout (steps 0-11), as make demo SYNC=trigger runs it: 250 s measured on a loaded 2-core machine.
  it('When SYNC=trigger installs the sync triggers one way only (one-way-trigger), then the checker reports exactly its kinds, each first in its step, and the demo exits non-zero', async () => {
    const expected = ANTI_PATTERN_KINDS['one-way-trigger']!;
    expectCaught(await runDemo({ SCENARIO: 'one-way-trigger', ...expected.env }), expected);
  }, 600_000);
});
