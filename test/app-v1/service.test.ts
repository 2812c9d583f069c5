// v1 (app-v1/service.ts) knows only the old columns: it writes name and email and never profile_data, on the
// expanded schema as on the base one. Its rows are what the backfill fills and what dual-read must not trust.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { databaseTargets, unique } from '../support/databases.ts';
import { sideBySide } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const targets = await databaseTargets();

describe.each(targets)('v1 on the expanded schema on $name', (target) => {
  const apps = sideBySide(target);

  it.skipIf(target.skip)('When v1 creates a user, then the old columns hold it and profile_data stays NULL', async () => {
    const name = unique('v1-create');

    const res = await request(apps.v1.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201);

    expect(res.headers.location).toBe(`/users/${res.body.id}`);
    expect(res.headers['x-app-version']).toBe('v1');
    expect(await storedUser(apps.database.db, res.body.id)).toEqual({ id: res.body.id, name, email: `${name}@example.test`, profileRaw: null });
  });

  it.skipIf(target.skip)('When v1 updates a row v2 wrote, then only the old columns change and profile_data keeps v2\'s value', async () => {
    const original = unique('v2-wrote');
    const { body } = await request(apps.v2.app).post('/users').send({ name: original, email: `${original}@example.test` }).expect(201);
    const renamed = unique('v1-renamed');

    await request(apps.v1.app).put(`/users/${body.id}`).send({ name: renamed, email: `${renamed}@example.test` }).expect(200);

    const row = await storedUser(apps.database.db, body.id);
    expect(row).toMatchObject({ name: renamed, email: `${renamed}@example.test` });
    expect(storedProfile(row!.profileRaw)).toEqual({ name: original, email: `${original}@example.test` });
  });

  it.skipIf(target.skip)('When v1 writes the same values again, then the PUT still answers 200, not 404', async () => {
    const name = unique('v1-same');
    const fields = { name, email: `${name}@example.test` };
    const { body } = await request(apps.v1.app).post('/users').send(fields).expect(201);

    const res = await request(apps.v1.app).put(`/users/${body.id}`).send(fields);

    expect(res.status).toBe(200);
    expect(await storedUser(apps.database.db, body.id)).toMatchObject(fields);
  });
});
