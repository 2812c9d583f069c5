// The worked example of adapting the template (examples/split-name/), selected the way a user selects it
// (MAPPING=split-name, read when the process starts): a mapping that splits `name` into first_name/last_name
// must be lossless both ways, its SQL must compute inside each database exactly what the apps compute in code
// (both directions), and the core path runs on it: v1 and v2 write, the backfill fills, verify finds 0 drift.
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.MAPPING = 'split-name';
});

import { splitNameMapping } from '../../examples/split-name/schema-mapping.ts';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { driftSql } from '../../shared/drift-sql.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const TRICKY_NAMES = ['Ada Lovelace', 'Plato', ' leading space', 'trailing space ', 'two  spaces', 'a b c', 'Zoë Ångström', '名 字', '😀 emoji', '', ' '];

describe('the split-name mapping in code', () => {
  it('When MAPPING=split-name is set at start, then the active mapping is the split-name example', () => {
    expect(mapping).toBe(splitNameMapping);
  });

  it('When any name goes old -> new -> old, then every byte comes back (v1 and the way back depend on it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (name, email) => {
        const fields = { name, email };
        const json = splitNameMapping.newJson(fields);
        expect(splitNameMapping.readNew(json)).toEqual(fields);
        expect(splitNameMapping.readNew(JSON.parse(json))).toEqual(fields);
        expect(splitNameMapping.differingFields(fields, splitNameMapping.readNew(json)!)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('When a name has spaces, then it splits at the first one only, and a name without one has last_name null', () => {
    expect(splitNameMapping.toNew({ name: 'Ada King Lovelace', email: 'e' })).toEqual({ first_name: 'Ada', last_name: 'King Lovelace', email: 'e' });
    expect(splitNameMapping.toNew({ name: 'Plato', email: 'e' })).toEqual({ first_name: 'Plato', last_name: null, email: 'e' });
    expect(splitNameMapping.toNew({ name: 'Plato ', email: 'e' })).toEqual({ first_name: 'Plato', last_name: '', email: 'e' });
  });

  it.each([
    ['the old shape', { name: 'Ada', email: 'e' }],
    ['a numeric last_name', { first_name: 'Ada', last_name: 7, email: 'e' }],
    ['no last_name key', { first_name: 'Ada', email: 'e' }],
    ['no email', { first_name: 'Ada', last_name: null }],
    ['malformed JSON', '{"first_name":'],
  ])('When profile_data holds %s, then it is not accepted', (_what, raw) => {
    expect(splitNameMapping.readNew(typeof raw === 'string' ? raw : JSON.stringify(raw))).toBeNull();
  });
});

const targets = await databaseTargets();

describe.each(targets)('the split-name SQL on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create({ migrateTo: null });
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip !== null)("When the database computes profile_data from the old columns and back, then both equal the code's values for every tricky name", async () => {
    const { dialect } = database.db;
    const email = `${unique('split')}@example.test`;
    const newFromOld = splitNameMapping.sql!.newFromOldSql(dialect);
    for (const name of TRICKY_NAMES) {
      const [row] = await database.db.select<{ profile_data: unknown }>(`SELECT ${newFromOld} AS profile_data FROM (SELECT $1 AS name, $2 AS email) AS t`, [name, email]);
      expect(storedProfile(row!.profile_data), JSON.stringify(name)).toEqual(splitNameMapping.toNew({ name, email }));

      const back = splitNameMapping.sql!.oldFromNewSql(dialect);
      const drift = driftSql(dialect, splitNameMapping);
      const [read] = await database.db.select<{ name: string | null; email: string | null; valid: unknown }>(
        `SELECT ${back.name} AS name, ${back.email} AS email, CASE WHEN ${drift.valid} THEN 1 ELSE 0 END AS valid FROM (SELECT $1 AS profile_data) AS t`,
        [splitNameMapping.newJson({ name, email })],
      );
      expect(read, JSON.stringify(name)).toEqual({ name, email, valid: 1 });
    }
  });

  it.skipIf(target.skip !== null)('When profile_data has the wrong shape, then the SQL calls it invalid and reads no old value from it, as the code does', async () => {
    const { dialect } = database.db;
    const back = splitNameMapping.sql!.oldFromNewSql(dialect);
    const drift = driftSql(dialect, splitNameMapping);
    for (const raw of [{ name: 'Ada', email: 'e' }, { first_name: 'Ada', last_name: 7, email: 'e' }, { first_name: 'Ada', email: 'e' }, [1]]) {
      const [read] = await database.db.select<{ name: string | null; valid: unknown }>(
        `SELECT ${back.name} AS name, CASE WHEN ${drift.valid} THEN 1 ELSE 0 END AS valid FROM (SELECT $1 AS profile_data) AS t`,
        [JSON.stringify(raw)],
      );
      expect(read, JSON.stringify(raw)).toEqual({ name: null, valid: 0 });
      expect(splitNameMapping.readNew(JSON.stringify(raw))).toBeNull();
    }
  });
});

describe.each(targets)('the core path with MAPPING=split-name on $name', (target) => {
  let database: TestDatabase;
  let v1: InProcessApp;
  let v2: InProcessApp;
  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    v1 = await inProcessApp('v1', database.db);
    v2 = await inProcessApp('v2', database.db);
  });
  afterAll(async () => {
    await v1?.close();
    await v2?.close();
    await database?.drop();
  });

  it.skipIf(target.skip !== null)('When v1 and v2 write, the backfill runs and a v1 update drifts one row, then verify counts exactly that row and the next backfill leaves 0 drift', async () => {
    const tag = unique('core');
    const byV1 = await request(v1.app).post('/users').send({ name: `Old ${tag}`, email: `old.${tag}@example.test` }).expect(201);
    const byV2 = await request(v2.app).post('/users').send({ name: `New Middle ${tag}`, email: `new.${tag}@example.test` }).expect(201);
    await request(v2.app).put(`/users/${byV2.body.id}`).send({ name: `Solo${tag}`, email: `new.${tag}@example.test` }).expect(200);

    // v2 stored the split shape; v1's row has no profile_data until the backfill.
    expect(storedProfile((await storedUser(database.db, byV2.body.id))!.profileRaw)).toEqual({ first_name: `Solo${tag}`, last_name: null, email: `new.${tag}@example.test` });
    expect((await storedUser(database.db, byV1.body.id))!.profileRaw).toBeNull();

    await runBackfill(database.db, { direction: 'forward' }, { controls: fixedControls(), progress: silentProgress() });
    expect(storedProfile((await storedUser(database.db, byV1.body.id))!.profileRaw)).toEqual({ first_name: 'Old', last_name: tag, email: `old.${tag}@example.test` });
    expect(await runVerify(database.db, { mode: 'dual', owner: 'test' })).toMatchObject({ drift: 0 });

    await request(v1.app).put(`/users/${byV1.body.id}`).send({ name: `Changed ${tag}`, email: `old.${tag}@example.test` }).expect(200);
    expect(await runVerify(database.db, { mode: 'dual', owner: 'test', sampleSize: 10 })).toMatchObject({ drift: 1, different: 1, sample: [{ id: byV1.body.id, reason: 'different', fields: ['name'] }] });

    await runBackfill(database.db, { direction: 'forward' }, { controls: fixedControls(), progress: silentProgress() });
    expect(await runVerify(database.db, { mode: 'dual', owner: 'test' })).toMatchObject({ drift: 0 });

    // Reads served from the new column give back the old-column view, byte for byte.
    await setFlags(database.db, { 'read-new-percent': 100 }, [v2]);
    const read = await request(v2.app).get(`/users/${byV1.body.id}`).expect(200);
    expect(read.headers['x-read-source']).toBe('new');
    expect(read.body).toEqual({ id: byV1.body.id, name: `Changed ${tag}`, email: `old.${tag}@example.test` });
  });
});
