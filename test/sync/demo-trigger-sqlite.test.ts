// `make demo SYNC=trigger` on SQLite, short (steps of a second, the load capped: SHORT_DEMO): the whole rollout with
// the sync triggers instead of app dual-write, under load through the balancer, judged by the same checker. Its own
// file, so that it and the MySQL/MariaDB run (demo-trigger-mysql.test.ts) go to the two workers; at full pace in
// demo-trigger.full.test.ts (make test-full).
import { describe, it } from 'vitest';
import { SHORT_DEMO } from '../demo/support.ts';
import { expectTriggerRollout } from './trigger-rollout.ts';

describe('make demo SYNC=trigger DB=sqlite (short)', () => {
  it('When the rollout runs with SYNC=trigger on SQLite, then it passes with 0 anomalies and 0 drift, and v1-b serves through live and new-only', () => expectTriggerRollout({ ...SHORT_DEMO, DB: 'sqlite' }), 300_000);
});
