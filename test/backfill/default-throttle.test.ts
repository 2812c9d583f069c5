// The backfill's default throttle (make bench's `live` part measures what it buys): a rest after each batch four times as
// long as the batch took (gh-ost's --nice-ratio, 4 by default), and on InnoDB a wait while the redo log is more
// than half way to the checkpoint age where InnoDB stops every writer to flush (--max-redo-pct, 50 by default).
// --unthrottled turns both off (the bench's speed figure against one UPDATE).
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { redoFillFromStatus, redoFillPercent, redoPressureCheck } from '../../shared/backfill/throttle.ts';
import { databaseTargets, sqliteTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { seedV1Users } from './seed.ts';

const mysql = (await databaseTargets()).find((target) => target.name === 'mysql');
let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

describe('the rest after each batch (--nice-ratio)', () => {
  it('When the backfill runs with its default nice ratio, then it rests about nineteen times as long as its batches took, and with --nice-ratio 0 not at all; every row is filled either way', async () => {
    const summaries = [];
    for (const niceRatio of [undefined, 0]) {
      database = await sqliteTarget().create();
      await seedV1Users(database.db, 600);
      const summary = await runBackfill(database.db, { direction: 'forward', batch: 50, ...(niceRatio === undefined ? {} : { niceRatio }) }, { controls: fixedControls(), progress: silentProgress() });
      const [row] = await database.db.select<{ missing: number }>('SELECT COUNT(*) AS missing FROM users WHERE profile_data IS NULL');
      expect(Number(row!.missing)).toBe(0);
      summaries.push(summary);
      await database.drop();
      database = undefined;
    }
    const [niced, unthrottled] = summaries;
    expect(niced!.batches).toBe(12);
    // Rests nineteen times as long as the batch before (none after the last): 11 rests of 19x against 12 batches, about
    // 17x the time it works. Over 8x leaves room for a slow machine's work between batches, and the old default of 4
    // (about 3.7x) fails.
    const working = niced!.elapsedMs - niced!.throttledMs;
    expect(niced!.throttledMs / working).toBeGreaterThan(8);
    expect(unthrottled!.throttledMs).toBe(0);
  });
});

describe('the redo-pressure wait (--max-redo-pct)', () => {
  it('When the server reports MariaDB\'s checkpoint age or MySQL 8\'s redo LSNs, then the fill is their percentage; when it reports neither, then null (the wait stays off)', () => {
    const row = (Variable_name: string, Value: number | string) => ({ Variable_name, Value: String(Value) });
    expect(redoFillFromStatus([row('Innodb_checkpoint_age', 40_000_000), row('Innodb_checkpoint_max_age', 80_000_000)])).toBe(50);
    expect(redoFillFromStatus([row('Innodb_redo_log_current_lsn', 1_300_000), row('Innodb_redo_log_checkpoint_lsn', 1_000_000), row('Innodb_redo_log_capacity_resized', 1_000_000)])).toBe(30);
    expect(redoFillFromStatus([])).toBeNull();
    expect(redoFillFromStatus([row('Innodb_checkpoint_age', 5), row('Innodb_checkpoint_max_age', 0)])).toBeNull();
  });

  it('When the fill stays above the limit without falling (MariaDB left high by earlier writes, an idle page cleaner), then the backfill does not wait; when it falls above the limit, then it waits until it is below', async () => {
    database = await sqliteTarget().create();
    // A server reading, played back: the check itself is what is tested (SQLite's dialect is swapped for MariaDB's name only).
    const db = { ...database.db, dialect: { ...database.db.dialect, name: 'mariadb' } } as typeof database.db;
    const readings = (values: number[]) => {
      const queue = [values[0]!, ...values];
      return async () => queue.length > 1 ? queue.shift()! : queue[0]!;
    };
    const stuck = await redoPressureCheck(db, 50, readings([85, 85, 85.05, 85.1, 85]));
    expect([await stuck!(), await stuck!(), await stuck!(), await stuck!(), await stuck!()]).toEqual([null, null, null, null, null]);
    const catchingUp = await redoPressureCheck(db, 50, readings([85, 80, 70, 55, 49, 45]));
    const reasons = [];
    for (let i = 0; i < 6; i++) reasons.push(await catchingUp!());
    expect(reasons.map((r) => r !== null)).toEqual([false, true, true, true, false, false]);
    expect(reasons[1]).toBe("redo pressure: checkpoint age 80% of InnoDB's maximum > 50%, falling");
  });

  it('When the database is SQLite, or the limit is 0, then there is no redo wait', async () => {
    database = await sqliteTarget().create();
    expect(await redoPressureCheck(database.db, 50)).toBeNull();
  });

  it.skipIf(!mysql || mysql.skip)('When the database is MariaDB, then the fill is read from the server (0-100%), and a flat fill never makes it wait', async () => {
    database = await mysql!.create();
    const fill = await redoFillPercent(database.db);
    expect(fill).not.toBeNull();
    expect(fill!).toBeGreaterThanOrEqual(0);
    expect(fill!).toBeLessThanOrEqual(100);
    expect(await redoPressureCheck(database.db, 0)).toBeNull();
    const never = await redoPressureCheck(database.db, 100);
    expect(never).not.toBeNull();
    expect(await never!()).toBeNull();
    // Against the real server's reading: with a limit of 0.000000001% and the fill flat between two probes, no wait.
    const real = await redoPressureCheck(database.db, 1e-9);
    expect(await real!()).toBeNull();
  });
});
