// Rollout step "verify": a verify counts as "after the last v1" by its recorded start, so it must record that
// start before it reads anything (the key range, and with --replica the position the replica must reach).
// Otherwise a v1 write that commits between the first read and the recorded start is missed by a verify that
// still counts as having started after it. The read source here is the same database, wrapped to note the
// database clock at its first read and to let the clock move on before returning.
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connection.ts';
import { databaseNow, parseDbTime } from '../../shared/db/time.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';
import { seedV1Users } from '../backfill/seed.ts';

const targets = await databaseTargets();

const clock = databaseNow;

/** The same database as a read source that notes the clock at its first read and returns only once the clock has moved past it. */
function noteFirstRead(db: Database): { readFrom: Database; firstRead: () => string | null } {
  let first: string | null = null;
  const readFrom = Object.create(db) as Database;
  readFrom.select = async (sql, params) => {
    const at = first === null ? await clock(db) : null;
    const rows = await db.select(sql, params);
    if (at !== null) {
      first = at;
      await waitFor(async () => (parseDbTime(await clock(db)) > parseDbTime(at) + 2 ? true : undefined), { what: 'the database clock to move on' });
    }
    return rows as never;
  };
  return { readFrom, firstRead: () => first };
}

describe.each(targets)('verify records its start on $name', (target) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(target.skip)('When verify runs, then its recorded start is no later than its first read, and a hook it runs before reading (the replica catch-up) runs after the start is recorded', async () => {
    database = await target.create();
    const { db } = database;
    await seedV1Users(db, 20);
    const { readFrom, firstRead } = noteFirstRead(db);
    let hookSawRecord: unknown;

    const record = await runVerify(db, {
      mode: 'dual',
      owner: 'test',
      readFrom,
      beforeRead: async () => {
        hookSawRecord = (await db.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM verify_runs'))[0]?.n;
      },
    });

    expect(firstRead()).not.toBeNull();
    expect(parseDbTime(record.startedAt)).toBeLessThanOrEqual(parseDbTime(firstRead()!));
    expect(Number(hookSawRecord)).toBe(1);
    expect(record).toMatchObject({ rowsChecked: 20, rangeStart: expect.any(Number), rangeEnd: expect.any(Number) });
    expect(record.rangeEnd! - record.rangeStart! + 1).toBe(20);
  }, 30_000);
});
