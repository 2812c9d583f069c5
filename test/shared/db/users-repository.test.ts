// The repository builds every statement from the mapping's column lists: a multi-row INSERT numbers its
// placeholders from each row's own list and reports the new ids in row order on every dialect (SQLite's driver
// reports the last id of a multi-row INSERT, MySQL's the first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersRepository } from '../../../shared/db/users-repository.ts';
import { mapping } from '../../../shared/schema-mapping.ts';
import { databaseTargets, unique } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';

const targets = await databaseTargets();

describe.each(targets)('the repository on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create();
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip !== null)('When rows are inserted many at once, with and without the new column, then each returned id holds its own row', async () => {
    const users = usersRepository(database.db);
    await users.insertOld(mapping.sampleFields(unique('before'), 'example.test'));
    for (const withNew of [false, true]) {
      const rows = Array.from({ length: 5 }, () => mapping.sampleFields(unique('many'), 'example.test'));

      const ids = await users.insertMany(rows, { withNew });

      for (const [i, id] of ids.entries()) {
        const stored = await users.findWithProfile(id);
        expect(stored?.fields).toEqual(rows[i]);
        expect(stored?.profileData === null ? null : mapping.readNew(stored?.profileData)).toEqual(withNew ? rows[i] : null);
      }
    }
  });
});
