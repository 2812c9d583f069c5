// Checklist: "Deploy the new app version with dual-write logic". Whatever DUAL_WRITE_STRATEGY v2 runs with,
// every write leaves profile_data holding exactly the values of the old columns (checked in raw SQL).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUAL_WRITE_STRATEGIES } from '../../shared/config.ts';
import type { DualWriteStrategy } from '../../shared/config.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const targets = await databaseTargets();

describe.each(targets)('dual-write on $name', (target) => {
  let database: TestDatabase;
  const v2 = new Map<DualWriteStrategy, InProcessApp>();

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    for (const strategy of DUAL_WRITE_STRATEGIES) v2.set(strategy, await inProcessApp('v2', database.db, { DUAL_WRITE_STRATEGY: strategy }));
  });
  afterAll(async () => {
    for (const app of v2.values()) await app.close();
    await database?.drop();
  });

  const expectBothColumns = async (id: number, fields: { name: string; email: string }) => {
    const row = await storedUser(database.db, id);
    expect(row).toMatchObject({ id, name: fields.name, email: fields.email });
    expect(storedProfile(row!.profileRaw)).toEqual({ name: fields.name, email: fields.email });
  };

  describe.each(DUAL_WRITE_STRATEGIES)('strategy %s', (strategy) => {
    it.skipIf(target.skip)(`When v2 (${strategy}) creates a user, then profile_data holds exactly the old columns' values`, async () => {
      const name = unique(`create-${strategy}`);
      const fields = { name, email: `${name}@example.test` };

      const created = await request(v2.get(strategy)!.app).post('/users').send(fields).expect(201);

      expect(created.body).toEqual({ id: expect.any(Number), ...fields });
      await expectBothColumns(created.body.id, fields);
    });

    it.skipIf(target.skip)(`When v2 (${strategy}) updates a user, then profile_data holds exactly the new old-column values`, async () => {
      const app = v2.get(strategy)!.app;
      const before = unique(`before-${strategy}`);
      const { body } = await request(app).post('/users').send({ name: before, email: `${before}@example.test` }).expect(201);
      const after = unique(`after-${strategy}`);
      const fields = { name: after, email: `${after}@example.test` };

      await request(app).put(`/users/${body.id}`).send(fields).expect(200);

      await expectBothColumns(body.id, fields);
    });

    it.skipIf(target.skip)(`When v2 (${strategy}) updates a row v1 wrote (profile_data NULL), then the update fills profile_data too`, async () => {
      const app = v2.get(strategy)!.app;
      const before = unique(`v1-row-${strategy}`);
      const id = await database.db.insert(
        `INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, $2, ${database.db.dialect.now}, ${database.db.dialect.now})`,
        [before, `${before}@example.test`],
      );
      const after = unique(`v2-update-${strategy}`);
      const fields = { name: after, email: `${after}@example.test` };

      await request(app).put(`/users/${id}`).send(fields).expect(200);

      await expectBothColumns(id, fields);
    });
  });
});
