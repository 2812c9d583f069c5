// The way back from new-only: new-only -> live -> reverse backfill -> verify -> read-shift. In new-only v2 wrote
// only profile_data (new rows have no old columns at all, updated rows have stale ones). Rolling back to live
// makes v2 dual-write again; leaving live is refused until a reverse backfill has refilled the old columns from
// profile_data and a dual-mode verify proves them equal; a forward backfill on the way only fills a missing
// profile_data and never copies the stale old columns over the newer one. At the end v1 could serve again.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp, waitFor } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedFlagSet } from '../support/flags.ts';
import { storedUser } from '../support/rows.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { backfill, stageLabel, step, verify, walkTo } from './walk.ts';

const targets = await databaseTargets();

describe.each(targets)('the way back from new-only on $name', (target) => {
  let database: TestDatabase | undefined;
  const apps: InProcessApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database?.drop();
    database = undefined;
  });

  /** Waits until the app has loaded the current flag set (the in-process apps are not in the registry). */
  const loaded = async (app: InProcessApp) => {
    const { version } = (await storedFlagSet(database!.db))!;
    await waitFor(() => ((app.flags.loaded().version ?? -1) >= version ? true : undefined), { what: `flag-set version ${version}` });
  };

  it.skipIf(target.skip)('When new-only is rolled back to live, then leaving live waits for a reverse backfill and a clean verify, after which every old column is right again', async () => {
    database = await target.create();
    const { db, url } = database;
    const seeded = await seedV1Users(db, 100);
    await walkTo(db, 'new-only');
    const v2 = await inProcessApp('v2', db);
    apps.push(v2);
    await loaded(v2);
    const created = { name: unique('created in new-only'), email: `${unique('new')}@example.test` };
    const updated = { name: unique('updated in new-only'), email: `${unique('upd')}@example.test` };
    const createdId = (await request(v2.app).post('/users').send(created).expect(201)).body.id as number;
    const updatedId = seeded.ids[0]!;
    await request(v2.app).put(`/users/${updatedId}`).send(updated).expect(200);
    expect(await storedUser(db, createdId)).toMatchObject({ name: null, email: null });
    expect(await storedUser(db, updatedId)).toMatchObject(seeded.fields.get(updatedId)!);

    const toLive = await step(db, 'rollback');
    await loaded(v2);
    const leaveEarly = await step(db, 'rollback');
    const forward = await runScript('cli/backfill.ts', [], { DATABASE_URL: url });
    const reverse = await backfill(db, 'reverse');
    const check = await verify(db, 'dual');
    const toReadShift = await step(db, 'rollback');
    await loaded(v2);

    expect(toLive).toMatchObject({ outcome: 'completed', from: { label: 'new-only' }, to: { label: 'live' } });
    expect(leaveEarly).toMatchObject({ outcome: 'refused', to: { label: 'read-shift 100%' } });
    expect(forward.code, forward.stderr).toBe(0);
    expect(forward.stdout).toMatch(/whole run +0 rows changed/);
    expect(reverse.rowsChangedThisProcess).toBe(2);
    expect(check.drift).toBe(0);
    expect(toReadShift).toMatchObject({ outcome: 'completed', from: { label: 'live' }, to: { label: 'read-shift 100%' } });
    expect(await stageLabel(db)).toBe('read-shift 100%');
    expect(await storedUser(db, createdId)).toMatchObject(created);
    expect(await storedUser(db, updatedId)).toMatchObject(updated);
    const read = await request(v2.app).get(`/users/${updatedId}`).expect(200);
    expect(read.headers['x-read-source']).toBe('new');
    expect(read.body).toEqual({ id: updatedId, ...updated });
    const v1 = await inProcessApp('v1', db);
    apps.push(v1);
    expect((await request(v1.app).get(`/users/${createdId}`).expect(200)).body).toEqual({ id: createdId, ...created });
  }, 60_000);
});
