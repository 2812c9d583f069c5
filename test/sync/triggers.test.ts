// The sync triggers (shared/sync/triggers.ts) on SQLite and MariaDB, through the statements the versions really
// send (shared/db/users-repository.ts): up (v1's write of the old columns reaches profile_data), down (a
// profile_data-only write reaches the old columns), both written (v2's dual-write) left alone, inserts, NULLs and
// unreadable profile_data, byte-exact change detection (case-only and trailing-space changes, also under a _ci
// collation), unusual Unicode both ways, no recursion, presence read from the catalog, and install/drop while
// writers run with 0 failed writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { dropSyncTriggers, installSyncTriggers, syncTriggerName, syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import type { Key } from '../../shared/mapping-contract.ts';

const targets = await databaseTargets();

const fieldsOf = (label: string) => {
  const name = unique(label);
  return { name, email: `${name}@example.test` };
};
const profileJson = (fields: { name: string; email: string }) => JSON.stringify({ name: fields.name, email: fields.email });

/** The row as stored, profile_data parsed (MariaDB and SQLite store text, MySQL 8 an object). */
async function row(db: Database, id: Key) {
  const stored = await storedUser(db, id);
  if (!stored) throw new Error(`no user ${id}`);
  return { name: stored.name, email: stored.email, profile: storedProfile(stored.profileRaw) };
}

describe.each(targets)('sync triggers on $name', (target) => {
  // One database per target for the tests of the triggers' behaviour (each test on its own rows), at 007 (old
  // columns nullable, as new-only needs), both directions installed. On MariaDB the old columns are made
  // case-insensitive (utf8mb4_general_ci, PAD SPACE) first: the template's utf8mb4_bin still ignores trailing
  // spaces, and a team's schema may well be _ci; the triggers must compare bytes whatever the collation says.
  let synced: TestDatabase | undefined;
  beforeAll(async () => {
    if (target.skip) return;
    synced = await target.create({ migrateTo: '007-relax-old-columns' });
    if (synced.db.dialect.name !== 'sqlite') {
      await synced.db.run('ALTER TABLE users MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL, MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL');
    }
    await installSyncTriggers(synced.db, ['up', 'down']);
  });
  afterAll(async () => {
    await synced?.drop();
  });

  const onSynced = (fn: (db: Database) => Promise<void>) => fn(synced!.db);

  it.skipIf(target.skip)('When v1 updates the old columns of a synced row, then profile_data follows (up), byte for byte', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const first = fieldsOf('up');
      const { id } = await users.insertBoth(first, profileJson(first));
      const next = fieldsOf('up-next');

      await users.updateOld(id, next);

      expect(await row(db, id)).toEqual({ ...next, profile: next });
    });
  });

  it.skipIf(target.skip)('When a write changes only profile_data, then the old columns follow (down)', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const first = fieldsOf('down');
      const { id } = await users.insertBoth(first, profileJson(first));
      const next = fieldsOf('down-next');

      await users.updateNewOnly(id, profileJson(next));

      expect(await row(db, id)).toEqual({ ...next, profile: next });
    });
  });

  it.skipIf(target.skip)('When one statement writes both sides (v2 dual-write), even with different values, then the row is left as written', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const first = fieldsOf('both');
      const { id } = await users.insertBoth(first, profileJson(first));
      const old = fieldsOf('both-old');
      const other = fieldsOf('both-new');

      await users.updateBoth(id, old, profileJson(other));
      const inserted = await users.insertBoth(old, profileJson(other));

      expect(await row(db, id)).toEqual({ ...old, profile: other });
      expect(await row(db, inserted.id)).toEqual({ ...old, profile: other });
    });
  });

  it.skipIf(target.skip)('When v1 inserts (old columns only) and v2 inserts in new-only (profile_data only), then each row gets the other side', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const byV1 = fieldsOf('insert-v1');
      const byNewOnly = fieldsOf('insert-new-only');

      const { id: v1Id } = await users.insertOld(byV1);
      const newOnlyId = await users.insertNewOnly(profileJson(byNewOnly));

      expect(await row(db, v1Id)).toEqual({ ...byV1, profile: byV1 });
      expect(await row(db, newOnlyId)).toEqual({ ...byNewOnly, profile: byNewOnly });
    });
  });

  it.skipIf(target.skip)('When profile_data is cleared, or holds JSON the app cannot read, then the old columns are not touched; NULL old columns are never copied forward', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const first = fieldsOf('nulls');
      const { id } = await users.insertBoth(first, profileJson(first));

      await db.update('UPDATE users SET profile_data = NULL WHERE id = $1', [id]);
      const cleared = await row(db, id);
      await db.update('UPDATE users SET profile_data = $1 WHERE id = $2', [JSON.stringify({ name: 5, email: first.email }), id]);
      const unreadable = await row(db, id);
      // The `sequential` strategy's first statement: old columns and profile_data = NULL together, then the repair.
      const next = fieldsOf('nulls-next');
      await users.updateOldClearingNew(id, next);
      const clearedWithOld = await row(db, id);
      await users.repairMissingProfile(id);
      const newOnlyRow = await users.insertNewOnly(JSON.stringify({ name: null, email: 'x' }));

      expect(cleared).toEqual({ ...first, profile: null });
      expect(unreadable).toEqual({ ...first, profile: { name: 5, email: first.email } });
      expect(clearedWithOld).toEqual({ ...next, profile: null });
      expect(await row(db, id)).toEqual({ ...next, profile: next });
      expect(await row(db, newOnlyRow)).toEqual({ name: null, email: null, profile: { name: null, email: 'x' } });
    });
  });

  it.skipIf(target.skip)('When a write changes only the case or a trailing space (under a case-insensitive, PAD SPACE collation on MariaDB), then it still counts, both ways', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const base = { name: `alice ${unique('case')}`, email: `a-${unique('case')}@example.test` };
      const { id } = await users.insertBoth(base, profileJson(base));
      const upper = { ...base, name: base.name.toUpperCase() };
      await users.updateOld(id, upper);
      const afterCase = await row(db, id);
      // Proof the collation is case-insensitive on MariaDB: it calls the old and the new name equal.
      const [collated] = await db.select<{ same: number | string }>('SELECT (name = $1) AS same FROM users WHERE id = $2', [base.name, id]);
      const padded = { ...upper, email: `${upper.email} ` };
      await users.updateOld(id, padded);
      const afterSpace = await row(db, id);
      const lower = { ...padded, name: base.name };
      await users.updateNewOnly(id, profileJson(lower));
      const afterDownCase = await row(db, id);
      const unpadded = { ...lower, email: base.email };

      await users.updateNewOnly(id, profileJson(unpadded));

      expect(Number(collated!.same)).toBe(db.dialect.name === 'sqlite' ? 0 : 1);
      expect(afterCase).toEqual({ ...upper, profile: upper });
      expect(afterSpace).toEqual({ ...padded, profile: padded });
      expect(afterDownCase).toEqual({ ...lower, profile: lower });
      expect(await row(db, id)).toEqual({ ...unpadded, profile: unpadded });
    });
  });

  it.skipIf(target.skip)('When values hold emoji, combining marks, right-to-left text, quotes and backslashes, then both directions copy them byte for byte', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const tag = unique('u');
      const up = { name: `Zoe\u0308 😀👩‍👩‍👧 ${tag}`, email: `"q'\\ ${tag}@example.test` };
      const down = { name: `Zoë שלום 𝔘 ${tag}`, email: `e\u0301\t${tag}@example.test` };
      const { id: upId } = await users.insertOld(up);
      const first = fieldsOf('unicode');
      const { id } = await users.insertBoth(first, profileJson(first));

      await users.updateNewOnly(id, profileJson(down));
      await users.updateOld(upId, { ...up, name: `${up.name}\u0301` });

      expect(await row(db, id)).toEqual({ ...down, profile: down });
      expect(await row(db, upId)).toEqual({ ...up, name: `${up.name}\u0301`, profile: { ...up, name: `${up.name}\u0301` } });
    });
  });

  it.skipIf(target.skip)('When a trigger\'s write lands, then no other trigger fires after it (no recursion, even with SQLite\'s recursive_triggers on)', async () => {
    await onSynced(async (db) => {
      const users = usersRepository(db);
      const first = fieldsOf('recursion');
      const { id } = await users.insertBoth(first, profileJson(first));
      const next = fieldsOf('recursion-next');
      const back = fieldsOf('recursion-back');

      if (db.dialect.name === 'sqlite') {
        // total_changes counts the rows every statement changed, trigger programs included: the write itself and
        // the one UPDATE its trigger issues, and nothing else (without the in-sync guard the up trigger's UPDATE
        // fires the down trigger: 3).
        const changes = await db.transaction(async (tx) => {
          await tx.run('PRAGMA recursive_triggers = ON');
          const counted = async (write: () => Promise<unknown>) => {
            const [before] = await tx.select<{ n: number }>('SELECT total_changes() AS n');
            await write();
            const [after] = await tx.select<{ n: number }>('SELECT total_changes() AS n');
            return after!.n - before!.n;
          };
          return [await counted(() => users.updateOld(id, next, tx)), await counted(() => users.updateNew(id, profileJson(back), tx))];
        });
        expect(changes).toEqual([2, 2]);
      } else {
        await users.updateOld(id, next);
        expect(await row(db, id)).toEqual({ ...next, profile: next });
        await users.updateNew(id, profileJson(back));
      }
      expect(await row(db, id)).toEqual({ ...back, profile: back });
    });
  });

  it.skipIf(target.skip)('When the triggers are installed and dropped while writers run, then no write fails and the catalog says what is installed; with up alone (the SYNC=app fence), a v1 write reaches profile_data and a profile_data-only write leaves the old columns', async () => {
    const database = await target.create({ migrateTo: '007-relax-old-columns' });
    const { db } = database;
    try {
      const users = usersRepository(db);
      const ids: Key[] = [];
      for (let i = 0; i < 8; i++) {
        const fields = fieldsOf('online');
        ids.push((await users.insertBoth(fields, profileJson(fields))).id);
      }
      let running = true;
      let writes = 0;
      const failures: string[] = [];
      // v1 updates and inserts, v2 dual-writes: every statement the versions send while the catalog changes.
      const writer = async (k: number) => {
        for (let i = 0; running; i++) {
          const fields = fieldsOf(`w${k}`);
          const id = ids[(i + k) % ids.length]!;
          try {
            if (i % 3 === 0) await users.updateOld(id, fields);
            else if (i % 3 === 1) await users.updateBoth(id, fields, profileJson(fields));
            else await users.insertOld(fields);
            writes++;
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      };
      const writers = [0, 1, 2].map(writer);
      const presences: unknown[] = [await syncTriggerPresence(db)];
      for (let round = 0; round < 3; round++) {
        await installSyncTriggers(db, ['up', 'down']);
        presences.push(await syncTriggerPresence(db));
        await dropSyncTriggers(db, ['up', 'down']);
        presences.push(await syncTriggerPresence(db));
      }
      await installSyncTriggers(db, ['up']);
      const installedUp = await syncTriggerPresence(db);
      running = false;
      await Promise.all(writers);
      const byV1 = fieldsOf('after-install');
      await users.updateOld(ids[0]!, byV1);
      const afterV1 = await row(db, ids[0]!);
      const byNew = fieldsOf('fence-new');
      await users.updateNew(ids[0]!, profileJson(byNew));
      const afterNew = await row(db, ids[0]!);
      await db.run(`DROP TRIGGER ${syncTriggerName('up', 'update')}`);

      expect(failures).toEqual([]);
      expect(writes).toBeGreaterThan(0);
      expect(presences).toEqual([
        { up: 'absent', down: 'absent' },
        ...Array.from({ length: 3 }, () => [
          { up: 'installed', down: 'installed' },
          { up: 'absent', down: 'absent' },
        ]).flat(),
      ]);
      expect(installedUp).toEqual({ up: 'installed', down: 'absent' });
      expect(afterV1).toEqual({ ...byV1, profile: byV1 });
      expect(afterNew).toEqual({ ...byV1, profile: byNew });
      expect(await syncTriggerPresence(db)).toEqual({ up: 'partial', down: 'absent' });
    } finally {
      await database.drop();
    }
  });
});
