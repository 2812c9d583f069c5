// The live checker looks often, each time at the few operations answered since its last look: its looks are
// synchronous and run in the process that drives the load, so a whole second's operations judged at once held up
// every request in flight once a second (about 2% of the demo's requests; its p99).
import { afterEach, describe, expect, it } from 'vitest';
import { LOOK_EVERY_MS, RolloutSampler } from '../../load/observe/sampler.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { sqliteTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const OPS_PER_SECOND = 1000;
const FEED_EVERY_MS = 5;
const RUN_MS = 2500;

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

describe('the rollout sampler', () => {
  it('When the load answers 1,000 operations a second, then each look of the live checker takes in at most three tenths of a second of them', async () => {
    database = await sqliteTarget().create();
    const recorder = new HistoryRecorder({ fields: ['name', 'email'], file: null });
    const sampler = new RolloutSampler({ recorder, db: database.db, registry: instanceRegistry(database.db) });
    // How many operations each look found that the previous one had not.
    const perLook: number[] = [];
    let seen = 0;
    const update = sampler.checker.update.bind(sampler.checker);
    let judged = 0;
    sampler.checker.update = () => {
      perLook.push(recorder.ops.length - seen);
      seen = recorder.ops.length;
      update();
      judged += sampler.checker.lastOpsJudged;
    };
    const tag = unique('look');
    let n = 0;
    // A write and a read of what it wrote, one after the other: a legal history, so the looks judge real reads.
    const feed = setInterval(() => {
      for (let i = 0; i < (OPS_PER_SECOND * FEED_EVERY_MS) / 1000; i += 2, n++) {
        const key = String(1 + (n % 50));
        const value = { name: `${tag}-${n}`, email: `${tag}-${n}@example.test` };
        const write = recorder.invoke({ process: n % 8, f: 'write', key, value });
        recorder.complete(write, { outcome: 'ok', status: 200 });
        const read = recorder.invoke({ process: n % 8, f: 'read', key });
        recorder.complete(read, { outcome: 'ok', status: 200, value });
      }
    }, FEED_EVERY_MS);

    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    clearInterval(feed);
    await sampler.stop();

    expect(recorder.ops.length, 'operations fed').toBeGreaterThan(1000);
    expect(Math.max(...perLook), `operations per look (${perLook.join(' ')})`).toBeLessThanOrEqual(0.3 * OPS_PER_SECOND);
    expect(perLook.length, 'looks taken').toBeGreaterThanOrEqual(RUN_MS / LOOK_EVERY_MS / 3);
    expect(judged, 'operations the looks handed to check()').toBeGreaterThan(1000);
    expect(Object.values(sampler.checker.byKind()).reduce((a, b) => a + b, 0), 'anomalies in a legal history').toBe(0);
  });
});
