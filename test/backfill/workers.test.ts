// The backfill with batches in flight at once (--workers N, the default of --unthrottled): one UPDATE uses one
// InnoDB thread, so consecutive key ranges run on their own connections at the same time; they commit in key
// order, each moving the one checkpoint only after the batch before it committed. What must stay true: every key
// below the checkpoint is done and nothing above it is committed (kill -9 at any moment, run again, the same
// result), each row is changed once, and a batch held up by an app's lock holds up the ones after it instead of
// letting them commit past it.
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { backfillRuns } from '../../shared/backfill/checkpoint.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import type { BackfillSummary, ProgressReporter } from '../../shared/backfill/progress.ts';
import type { Database } from '../../shared/db/connection.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { mysqlTarget, sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';
import { runScript, startScript } from '../support/scripts.ts';
import { seedV1Users, usersById } from './seed.ts';

const mysql = await mysqlTarget();

/** Keeps the notes a run prints (which says how many batches it keeps in flight). */
function recordingProgress(): ProgressReporter & { notes: string[]; summary: BackfillSummary | null } {
  const notes: string[] = [];
  return {
    notes,
    summary: null,
    update: () => undefined,
    note: (line) => notes.push(line),
    done(summary) {
      this.summary = summary;
    },
  };
}

/** Rows that break "every key below the checkpoint is filled, none at or above it is", read in ONE statement (one snapshot). */
async function rowsAcrossTheCheckpoint(db: Database, runId: number): Promise<number> {
  const [row] = await db.select<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM users u JOIN backfill_runs r ON r.id = $1
     WHERE (u.id < r.next_id AND u.profile_data IS NULL) OR (u.id >= r.next_id AND u.id <= r.range_end AND u.profile_data IS NOT NULL)`,
    [runId],
  );
  return Number(row!.n);
}

describe('backfill with batches in flight at once on mysql', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(mysql.skip)(
    "When an app transaction holds a row lock in the first of two batches in flight, then the second batch does its UPDATE but does not commit past it (nothing above the checkpoint), and once the lock goes the run ends with every row filled once",
    async () => {
      database = await mysql.create();
      const { db, url } = database;
      const seeded = await seedV1Users(db, 600);
      const first = seeded.ids[0]!;
      const locked = first + 10;
      const databaseName = new URL(url).pathname.slice(1);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let lockHeld!: () => void;
      const held = new Promise<void>((resolve) => (lockHeld = resolve));
      const holder = db.transaction(async (tx) => {
        await tx.select('SELECT id FROM users WHERE id = $1 FOR UPDATE', [locked]);
        lockHeld();
        await released;
      });
      await held;
      const progress = recordingProgress();
      const run = runBackfill(db, { direction: 'forward', batch: 100, niceRatio: 0, maxRedoPercent: 0, workers: 2 }, { controls: fixedControls(), progress });

      // The second batch's UPDATE has run (its transaction changed rows) while the first waits for the lock.
      const watched = (async () => {
        const seen = await waitFor(
          async () => {
            // This database's connections, then their transactions.
            const ours = new Set((await db.select<{ id: number | string }>('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = $1', [databaseName])).map((p) => Number(p.id)));
            const trx = (
              await db.select<{ thread: number | string; state: string; modified: number | string }>(
                'SELECT trx_mysql_thread_id AS thread, trx_state AS state, trx_rows_modified AS modified FROM information_schema.INNODB_TRX',
              )
            ).filter((t) => ours.has(Number(t.thread)));
            const waiting = trx.some((t) => t.state === 'LOCK WAIT');
            const aheadUncommitted = trx.some((t) => t.state === 'RUNNING' && Number(t.modified) > 0);
            return waiting && aheadUncommitted ? trx : undefined;
          },
          // INNODB_TRX is a cache refreshed only after 100 ms without a read: polled faster, it never changes.
          { timeoutMs: 10_000, intervalMs: 250, what: 'the first batch waiting for the lock while the second holds its uncommitted UPDATE' },
        );
        const runId = (await backfillRuns(db).unfinished())!.id;
        // Held past the batch's lock wait (1 s) and the second batch's wait for its turn (1 s): both roll back and retry.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const across = await rowsAcrossTheCheckpoint(db, runId);
        const [ahead] = await db.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM users WHERE id >= $1 AND profile_data IS NOT NULL', [locked]);
        return { seen, across, filledAhead: Number(ahead!.n) };
      })();
      // The lock goes whatever was seen, so that the run (and the test's clean-up) can end.
      const observed = await watched.finally(async () => {
        release();
        await holder;
      });
      const summary = await run;
      const { seen, across: acrossWhileHeld, filledAhead } = observed;

      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(acrossWhileHeld).toBe(0);
      expect(filledAhead).toBe(0);
      expect(progress.notes).toContain('2 batches in flight at once, committed in key order');
      expect(summary).toMatchObject({ rowsChanged: seeded.ids.length, interrupted: false });
      expect(summary.retries).toBeGreaterThan(0);
      expect(await backfillRuns(db).byId(summary.runId)).toMatchObject({ status: 'done', nextId: summary.rangeEnd + 1, rowsChanged: seeded.ids.length });
      const rows = await usersById(db);
      for (const id of seeded.ids) expect(rows.get(id)!.profile, `profile_data of ${id}`).toEqual(seeded.fields.get(id));
      expect((await runVerify(db, { mode: 'dual', owner: 'test' })).drift).toBe(0);
    },
    60_000,
  );

  it.skipIf(mysql.skip)(
    'When the backfill with 3 workers is killed with -9 mid-run, then every key below its checkpoint is filled and none above it, and run again it resumes there and changes each row once',
    async () => {
      database = await mysql.create();
      const { db, url } = database;
      const seeded = await seedV1Users(db, 2000);
      const runs = backfillRuns(db);
      const first = startScript('cli/backfill.ts', ['--workers', '3', '--batch', '20', '--sleep-ms', '10', '--nice-ratio', '0'], { DATABASE_URL: url }, { timeoutMs: 60_000 });
      const pid = await waitFor(
        async () => {
          const run = await runs.unfinished().catch(() => null);
          return run && run.nextId > run.rangeStart + 300 ? Number(run.owner.split(':').at(-1)) : undefined;
        },
        { timeoutMs: 20_000, what: 'the first run to pass key 300' },
      );

      process.kill(pid, 'SIGKILL');
      const killed = await first.result;
      const checkpoint = (await runs.unfinished())!;
      const across = await rowsAcrossTheCheckpoint(db, checkpoint.id);
      const second = await runScript('cli/backfill.ts', ['--workers', '3'], { DATABASE_URL: url });

      expect(killed.signal).toBe('SIGKILL');
      expect(killed.stdout).toContain('3 batches in flight at once, committed in key order');
      expect(checkpoint.nextId).toBeLessThan(checkpoint.rangeEnd);
      expect(across).toBe(0);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain(`resuming backfill run #${checkpoint.id} (forward) at key ${checkpoint.nextId}`);
      expect(await runs.byId(checkpoint.id)).toMatchObject({ status: 'done', rowsChanged: seeded.ids.length });
      const rows = await usersById(db);
      for (const id of seeded.ids) expect(rows.get(id)!.profile, `profile_data of ${id}`).toEqual(seeded.fields.get(id));
      expect((await runVerify(db, { mode: 'dual', owner: 'test' })).drift).toBe(0);
    },
    60_000,
  );
});

describe('backfill workers on sqlite', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it('When workers are asked for on SQLite (one writer at a time), then the run uses one, says so, and fills every row', async () => {
    database = await sqliteTarget().create();
    const { db } = database;
    const seeded = await seedV1Users(db, 300);
    const progress = recordingProgress();

    const summary = await runBackfill(db, { direction: 'forward', batch: 50, niceRatio: 0, workers: 3 }, { controls: fixedControls(), progress });

    expect(progress.notes).toContain('3 workers asked for, 1 used: SQLite writes one transaction at a time');
    expect(summary.rowsChanged).toBe(seeded.ids.length);
    const rows = await usersById(db);
    for (const id of seeded.ids) expect(rows.get(id)!.profile, `profile_data of ${id}`).toEqual(seeded.fields.get(id));
  });
});
