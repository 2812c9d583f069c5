// Steering a running backfill without restarting it, gh-ost style: the flags backfill-pause and
// backfill-batch-size reach the running process within its 250 ms poll; while paused it keeps its run alive
// (heartbeat) without moving the checkpoint, and its progress line says what it waits for.
import { afterEach, describe, expect, it } from 'vitest';
import { backfillRuns } from '../../shared/backfill/checkpoint.ts';
import { writeFlags } from '../../shared/flags/store.ts';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';
import { startScript } from '../support/scripts.ts';
import { seedV1Users } from './seed.ts';

const targets = await databaseTargets();

describe.each(targets)('steering a running backfill on $name', (target) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(target.skip)('When backfill-pause is set, then it waits saying so without moving its checkpoint; when unpaused with a new batch size, then it finishes with that size', async () => {
    database = await target.create();
    const { db, url } = database;
    const seeded = await seedV1Users(db, 1500);
    const runs = backfillRuns(db);
    const backfill = startScript('cli/backfill.ts', ['--batch', '10', '--sleep-ms', '10', '--progress-interval-ms', '100'], { DATABASE_URL: url }, { timeoutMs: 60_000 });
    let stdout = '';
    backfill.onStdout((text) => (stdout = text));
    await waitFor(async () => ((await runs.unfinished())?.batches ?? 0) >= 5 || undefined, { timeoutMs: 20_000, what: 'a few batches' });

    await writeFlags(db, { 'backfill-pause': true }, 'test');
    await waitFor(() => stdout.includes('[throttled: paused by flag backfill-pause]') || undefined, { what: 'the progress line to say paused' });
    const paused = (await runs.unfinished())!;
    const heartbeat = await waitFor(async () => {
      const run = (await runs.unfinished())!;
      return run.updatedAt !== paused.updatedAt ? run : undefined;
    }, { timeoutMs: 5000, what: 'a heartbeat while paused' });
    await writeFlags(db, { 'backfill-pause': false, 'backfill-batch-size': 500 }, 'test');
    const result = await backfill.result;

    expect(heartbeat.nextId).toBe(paused.nextId);
    expect(result.code, result.stderr).toBe(0);
    expect(stdout).toMatch(/backfill #\d+ forward: [\d,]+\/1,500 keys \(\d+\.\d%\), [\d,]+ rows changed, [\d,]+ keys\/s, ETA [^,]+, batch 10 \[running\]/);
    const run = (await runs.byId(paused.id))!;
    const keysBeforePause = paused.nextId - run.rangeStart;
    expect(keysBeforePause % 10).toBe(0);
    expect(run).toMatchObject({ status: 'done', rowsChanged: seeded.ids.length, batches: keysBeforePause / 10 + Math.ceil((run.rangeEnd + 1 - paused.nextId) / 500) });
  }, 60_000);
});
