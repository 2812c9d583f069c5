// Rollout step "backfill", interrupted the hard way: `kill -9` in the middle of a run (no cleanup, possibly
// inside a batch's transaction). Run again, it resumes from the checkpoint its last committed batch wrote (in
// that batch's own transaction), changes each row exactly once over both processes, and ends with zero drift.
import { afterEach, describe, expect, it } from 'vitest';
import { backfillRuns } from '../../shared/backfill/checkpoint.ts';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';
import { runScript, startScript } from '../support/scripts.ts';
import { seedV1Users, usersById } from './seed.ts';

const targets = await databaseTargets();

describe.each(targets)('backfill killed with -9 on $name', (target) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(target.skip)('When the backfill is killed with -9 mid-run and run again, then it resumes at its checkpoint and ends with every row filled once and zero drift', async () => {
    database = await target.create();
    const { db, url } = database;
    const seeded = await seedV1Users(db, 2000);
    const runs = backfillRuns(db);
    const first = startScript('cli/backfill.ts', ['--batch', '20', '--sleep-ms', '25', '--nice-ratio', '0'], { DATABASE_URL: url }, { timeoutMs: 60_000 });
    const pid = await waitFor(async () => {
      const run = await runs.unfinished().catch(() => null);
      return run && run.nextId > run.rangeStart + 300 ? Number(run.owner.split(':').at(-1)) : undefined;
    }, { timeoutMs: 20_000, what: 'the first run to pass key 300' });

    process.kill(pid, 'SIGKILL');
    const killed = await first.result;
    const checkpoint = (await runs.unfinished())!;
    const second = await runScript('cli/backfill.ts', ['--nice-ratio', '0'], { DATABASE_URL: url });
    const verify = await runScript('cli/verify.ts', [], { DATABASE_URL: url });

    expect(killed.signal).toBe('SIGKILL');
    expect(checkpoint.nextId).toBeLessThan(checkpoint.rangeEnd);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`resuming backfill run #${checkpoint.id} (forward) at key ${checkpoint.nextId}`);
    const run = (await runs.byId(checkpoint.id))!;
    expect(run).toMatchObject({ status: 'done', nextId: run.rangeEnd + 1, rowsChanged: seeded.ids.length });
    const rows = await usersById(db);
    for (const id of seeded.ids) expect(rows.get(id)!.profile, `profile_data of ${id}`).toEqual(seeded.fields.get(id));
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('drift: 0 rows');
  }, 60_000);
});
