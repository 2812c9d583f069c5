// 006-lookup-index: the index a lookup by a moved field uses from stage live on. It comes and goes with its
// migration, never makes a write fail (whatever a row's new column holds), and each example's lookup finds through
// the new column exactly the rows its old columns name (fromFields(toOld(toNew(x))) is the value at jsonPath).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAPPINGS } from '../../../examples/index.ts';
import type { Database } from '../../../shared/db/connection.ts';
import { migrateDown, migrateUp } from '../../../shared/migrations/runner.ts';
import { databaseTargets, unique } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';

const targets = await databaseTargets();

/** The lookup column and index on users, as the catalogue lists them. */
async function lookupSchema(db: Database): Promise<{ column: boolean; index: boolean }> {
  if (db.dialect.name === 'sqlite') {
    const [index] = await db.select<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND name = 'users_by_email'");
    return { column: false, index: Number(index?.n) === 1 };
  }
  const [column] = await db.select<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'profile_data_email' AND EXTRA LIKE 'VIRTUAL%'",
  );
  const [index] = await db.select<{ n: number | string }>("SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND INDEX_NAME = 'users_by_email'");
  return { column: Number(column?.n) === 1, index: Number(index?.n) === 1 };
}

describe('each example lookup', () => {
  it('When any value goes old -> new, then the lookup value computed from it in code is the one the new column holds at jsonPath (the index finds what the old columns name)', () => {
    for (const mapping of MAPPINGS.filter((candidate) => candidate.lookup)) {
      const lookup = mapping.lookup!;
      const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('10115', 'NW1 6XE', 'a@b.test'));
      const fields = fc.record(Object.fromEntries(mapping.oldColumnNames.map((name) => [name, text])) as Record<string, fc.Arbitrary<string>>);
      const withPostcodes = fc.tuple(fields, fc.stringMatching(/^\d{4,5}$/)).map(([value, postcode]) => ({ ...value, ...(value.address !== undefined ? { address: `${value.address}, ${postcode} City` } : {}) }));
      fc.assert(
        fc.property(fc.oneof(fields, withPostcodes), (value) => {
          const stored = JSON.parse(mapping.newJson(value)) as Record<string, unknown>;
          const inJson = stored[lookup.jsonKey];
          const fromOld = lookup.fromFields(mapping.readNew(mapping.newJson(value))!);
          expect(fromOld).toBe(lookup.fromFields(value));
          expect(fromOld).toBe(typeof inJson === 'string' ? inJson : null);
        }),
        { numRuns: 300 },
      );
    }
  });
});

describe.each(targets)('006-lookup-index on $name (default mapping: users by email)', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create({ migrateTo: '006-lookup-index' });
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip)('When 006-lookup-index runs up, down and up again, then the index (and on MySQL/MariaDB its virtual column) is there, gone, and there again', async () => {
    const sqlite = database.db.dialect.name === 'sqlite';
    const afterUp = await lookupSchema(database.db);
    expect((await migrateDown(database.db))?.name).toBe('006-lookup-index');
    const afterDown = await lookupSchema(database.db);
    await migrateUp(database.db);
    const afterUpAgain = await lookupSchema(database.db);

    expect(afterUp).toEqual({ column: !sqlite, index: true });
    expect(afterDown).toEqual({ column: false, index: false });
    expect(afterUpAgain).toEqual(afterUp);
  });

  it.skipIf(target.skip)('When profile_data holds what no lookup reads (a number, an over-long email, another shape), then writing it still succeeds', async () => {
    const email = `${unique('u')}@example.test`;
    const id = await database.db.insert(`INSERT INTO users (name, email, created_at, updated_at) VALUES ('n', $1, ${database.db.dialect.now}, ${database.db.dialect.now})`, [email]);
    for (const stored of [{ name: 'n', email: 5 }, { name: 'n', email: `${'x'.repeat(300)}@example.test` }, ['n', email], { name: 'n', email: { nested: email } }]) {
      expect(await database.db.update('UPDATE users SET profile_data = $1 WHERE id = $2', [JSON.stringify(stored), id])).toBe(1);
    }
  });
});
