// The worked example of "Adapt this template" (examples/split-name/): a mapping that splits `name` into
// first_name/last_name must be lossless both ways, and its backfill SQL must compute inside each database
// exactly what the apps compute in code (otherwise the backfill would write values verify calls drift).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitNameMapping as mapping } from '../../examples/split-name/schema-mapping.ts';
import type { UserFields } from '../../examples/split-name/schema-mapping.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const TRICKY_NAMES = ['Ada Lovelace', 'Plato', ' leading space', 'trailing space ', 'two  spaces', 'a b c', 'Zoë Ångström', '名 字', '😀 emoji', '', ' '];

describe('the split-name mapping in code', () => {
  it('When any name goes old -> new -> old, then every byte comes back (v1 and the way back depend on it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (name, email) => {
        const fields: UserFields = { name, email };
        const profile = mapping.toProfileData(fields);
        expect(mapping.fromProfileData(profile)).toEqual(fields);
        expect(mapping.parseProfileData(JSON.stringify(profile))).toEqual(profile);
        expect(mapping.differingFields(fields, mapping.fromProfileData(profile))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('When a name has spaces, then it splits at the first one only, and a name without one has last_name null', () => {
    expect(mapping.toProfileData({ name: 'Ada King Lovelace', email: 'e' })).toEqual({ first_name: 'Ada', last_name: 'King Lovelace', email: 'e' });
    expect(mapping.toProfileData({ name: 'Plato', email: 'e' })).toEqual({ first_name: 'Plato', last_name: null, email: 'e' });
    expect(mapping.toProfileData({ name: 'Plato ', email: 'e' })).toEqual({ first_name: 'Plato', last_name: '', email: 'e' });
  });

  it.each([
    ['the old shape', { name: 'Ada', email: 'e' }],
    ['a numeric last_name', { first_name: 'Ada', last_name: 7, email: 'e' }],
    ['no email', { first_name: 'Ada', last_name: null }],
    ['malformed JSON', '{"first_name":'],
  ])('When profile_data holds %s, then it is not accepted as a profile', (_what, raw) => {
    expect(mapping.parseProfileData(typeof raw === 'string' ? raw : JSON.stringify(raw))).toBeNull();
  });
});

const targets = await databaseTargets();

describe.each(targets)('the split-name backfill SQL on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create({ migrateTo: null });
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip !== null)('When the database computes profile_data from the old columns, then it equals the code\'s value for every tricky name', async () => {
    const expression = mapping.profileDataFromOldColumnsSql(database.db.dialect.jsonObject);
    const email = `${unique('split')}@example.test`;
    for (const name of TRICKY_NAMES) {
      const [row] = await database.db.select<{ profile: unknown }>(`SELECT ${expression} AS profile FROM (SELECT $1 AS name, $2 AS email) AS t`, [name, email]);

      expect(mapping.parseProfileData(row!.profile), JSON.stringify(name)).toEqual(mapping.toProfileData({ name, email }));
    }
  });
});
