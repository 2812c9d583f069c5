// The one-way-trigger anti-pattern (make demo SYNC=trigger SCENARIO=one-way-trigger; shared/sync/triggers.ts):
// under SYNC=trigger a v1 may serve through live and new-only, because the down trigger copies v2's new-only
// writes back to the old columns. A sync install that creates only the up trigger (ANTI_PATTERN=one-way-trigger
// in the environment of db:migrate and rollout) leaves every new-only write invisible to that v1. Here without
// the whole demo: the real v1 and v2 apps on one database, walked to new-only through the same install and gated
// transitions the commands run, once with the correct two-way triggers and once with the one-way install.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { applySyncMode } from '../../shared/rollout/sync.ts';
import { syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { databaseTargets, uniqueFields } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { inProcessApp, waitFor } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { stageLabel, walkTo } from '../rollout/walk.ts';

const targets = await databaseTargets();


/** v2 (in new-only) updates the row `id` and creates a user; then v1 reads both back. */
async function v2WritesThenV1Reads({ id, v1, v2 }: { id: string | number; v1: InProcessApp; v2: InProcessApp }, label: string) {
  const byV2 = uniqueFields(`${label}-update`);
  const created = uniqueFields(`${label}-create`);
  await request(v2.app).put(`/users/${id}`).send(byV2).expect(200);
  const { body: newUser } = await request(v2.app).post('/users').send(created).expect(201);
  const readUpdate = await request(v1.app).get(`/users/${id}`);
  const readCreate = await request(v1.app).get(`/users/${newUser.id}`);
  return { byV2, created, newUser, readUpdate, readCreate };
}

describe.each(targets)('SYNC=trigger, two-way and one-way, on $name', (target) => {
  let database: TestDatabase | undefined;
  const apps: InProcessApp[] = [];
  const antiPatternBefore = process.env.ANTI_PATTERN;
  afterEach(async () => {
    if (antiPatternBefore === undefined) delete process.env.ANTI_PATTERN;
    else process.env.ANTI_PATTERN = antiPatternBefore;
    for (const app of apps.splice(0)) await app.close();
    await database?.drop();
    database = undefined;
  });

  /**
   * A seeded table walked to new-only under SYNC=trigger, the triggers installed as db:migrate and rollout advance
   * install them (with ANTI_PATTERN=one-way-trigger in their environment when `oneWay`), then v1 and v2 on it; v2
   * has loaded new-only's flags (it writes profile_data only).
   */
  async function newOnlyWithV1(oneWay: boolean) {
    if (oneWay) process.env.ANTI_PATTERN = 'one-way-trigger';
    else delete process.env.ANTI_PATTERN;
    database = await target.create();
    const { db } = database;
    const [id] = (await seedV1Users(db, 5)).ids;
    await applySyncMode(db, 'trigger');
    await walkTo(db, 'new-only');
    const v1 = await inProcessApp('v1', db);
    const v2 = await inProcessApp('v2', db);
    apps.push(v1, v2);
    const { version } = (await storedFlagSet(db))!;
    await waitFor(() => ((v2.flags.loaded().version ?? -1) >= version ? true : undefined), { what: `v2 to load flag-set version ${version}` });
    return { db, id: id!, v1, v2 };
  }

  it.skipIf(target.skip)('When both sync triggers are installed and v2 writes in new-only, then v1 (still serving) reads v2\'s update and v2\'s new user', async () => {
    const { db, id, v1, v2 } = await newOnlyWithV1(false);
    const { byV2, created, newUser, readUpdate, readCreate } = await v2WritesThenV1Reads({ id, v1, v2 }, 'two-way');

    expect(await stageLabel(db)).toBe('new-only');
    expect(await syncTriggerPresence(db)).toEqual({ up: 'installed', down: 'installed' });
    expect({ status: readUpdate.status, body: readUpdate.body }).toEqual({ status: 200, body: { id, ...byV2 } });
    expect({ status: readCreate.status, body: readCreate.body }).toEqual({ status: 200, body: { id: newUser.id, ...created } });
  }, 60_000);

  it.skipIf(target.skip)('When the sync install is one-way (ANTI_PATTERN=one-way-trigger: up only) and v2 writes in new-only, then v1 (still serving) reads the old value and cannot read v2\'s new user', async () => {
    const { db, id, v1, v2 } = await newOnlyWithV1(true);
    const before = (await request(v1.app).get(`/users/${id}`).expect(200)).body;
    const { byV2, readUpdate, readCreate } = await v2WritesThenV1Reads({ id, v1, v2 }, 'one-way');
    const readByV2 = await request(v2.app).get(`/users/${id}`).expect(200);

    expect(await stageLabel(db)).toBe('new-only');
    expect(await syncTriggerPresence(db)).toEqual({ up: 'installed', down: 'absent' });
    expect(readByV2.body).toEqual({ id, ...byV2 });
    expect({ status: readUpdate.status, body: readUpdate.body }).toEqual({ status: 200, body: before });
    // v2's new user has NULL old columns, which v1 never expects: it answers 500, never the user.
    expect(readCreate.status).toBe(500);
  }, 60_000);
});
