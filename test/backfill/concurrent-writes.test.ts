// Rollout step "backfill" under live traffic: the batched backfill runs as its own process while a writer keeps
// inserting and updating through v1's statements (old columns only) and v2's (both, one statement). It must end
// (its key range is fixed at the start: pgroll#583 is the run that never ends under inserts) and must never put
// data into profile_data that is older than what the row held: each batch computes the value inside the UPDATE
// from the row's own current columns. What v1 writes after the backfill passed a row is drift that verify
// finds and a second run repairs.
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import type { UserFields } from '../../shared/schema-mapping.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { dualWriteStrategy } from '../../app-v2/dual-write.ts';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { startScript } from '../support/scripts.ts';
import { seedV1Users, usersById } from './seed.ts';
import type { Key } from '../../shared/mapping-contract.ts';

const targets = await databaseTargets();

describe.each(targets)('backfill under concurrent writes on $name', (target) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it.skipIf(target.skip)(
    'When v1 and v2 keep inserting and updating during the backfill, then it finishes anyway, no v2 write is overwritten with older data, and verify + a second run leave zero drift',
    async () => {
      database = await target.create();
      const { db } = database;
      const seeded = await seedV1Users(db, 1500);
      const users = usersRepository(db);
      const v2 = dualWriteStrategy('single', { db, users });
      /** Every value each row ever held, in order, and who wrote the last one. */
      const history = new Map<Key, { values: UserFields[]; lastBy: 'v1' | 'v2' }>(seeded.ids.map((id) => [id, { values: [seeded.fields.get(id)!], lastBy: 'v1' }]));

      const backfill = startScript('cli/backfill.ts', ['--batch', '25', '--sleep-ms', '5', '--nice-ratio', '0'], { DATABASE_URL: database.url }, { timeoutMs: 60_000 });
      let backfillDone = false;
      const result = backfill.result.finally(() => (backfillDone = true));
      let writesDuringBackfill = 0;
      for (let op = 0; !backfillDone; op++) {
        const fields = { name: `${seeded.label} op${op}`, email: `${seeded.label}.op${op}@example.test` };
        const id = seeded.ids[(op * 7919) % seeded.ids.length]!;
        switch (op % 5) {
          case 0:
          case 1:
            await users.updateOld(id, fields);
            history.get(id)!.values.push(fields);
            history.get(id)!.lastBy = 'v1';
            break;
          case 2:
          case 3:
            await v2.update(id, fields);
            history.get(id)!.values.push(fields);
            history.get(id)!.lastBy = 'v2';
            break;
          case 4: {
            const inserted = op % 2 === 0 ? await users.insertOld(fields) : await v2.create(fields);
            history.set(inserted.id, { values: [fields], lastBy: op % 2 === 0 ? 'v1' : 'v2' });
          }
        }
        writesDuringBackfill += backfillDone ? 0 : 1;
      }
      const { code, stdout, stderr } = await result;

      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(/backfill #\d+ forward done/);
      expect(writesDuringBackfill).toBeGreaterThan(20);
      const [run] = await db.select<{ range_start: number | string; range_end: number | string }>('SELECT range_start, range_end FROM backfill_runs ORDER BY id DESC LIMIT 1');
      const inRange = (id: Key) => Number(id) >= Number(run!.range_start) && Number(id) <= Number(run!.range_end);
      const rows = await usersById(db);
      let staleAfterV1 = 0;
      for (const [id, { values, lastBy }] of history) {
        const row = rows.get(id)!;
        const last = values.at(-1)!;
        expect({ name: row.name, email: row.email }, `old columns of ${id}`).toEqual(last);
        if (lastBy === 'v2') expect(row.profile, `profile_data of ${id}, last written by v2`).toEqual(last);
        else if (row.profile !== null) expect(values, `profile_data of ${id} is a value the row held`).toContainEqual(row.profile);
        else expect(inRange(id), `${id} has no profile_data though the backfill covered it`).toBe(false);
        if (row.profile === null || JSON.stringify(row.profile) !== JSON.stringify(last)) staleAfterV1 += 1;
      }

      const drift = await runVerify(db, { mode: 'dual', owner: 'test' });
      expect(drift.drift).toBe(staleAfterV1);
      await runBackfill(db, { direction: 'forward', niceRatio: 0 }, { controls: fixedControls(), progress: silentProgress() });
      expect((await runVerify(db, { mode: 'dual', owner: 'test' })).drift).toBe(0);
    },
    60_000,
  );
});
