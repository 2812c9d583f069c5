// What stage live changes in v2's reads: before it (read shift at 100%), profile_data is served only when it
// equals the old columns, and a row whose old columns changed behind v2's back is answered from them
// (fallback). In live, profile_data is trusted without the comparison: the rollout only gets there once no v1
// has been alive since a clean verify, so a difference can only mean the old columns are the stale side.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp, waitFor } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedFlagSet } from '../support/flags.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { step, walkTo } from './walk.ts';

const targets = await databaseTargets();

describe.each(targets)('reads in stage live on $name', (target) => {
  let database: TestDatabase | undefined;
  let v2: InProcessApp | undefined;
  afterEach(async () => {
    await v2?.close();
    await database?.drop();
    database = v2 = undefined;
  });

  it.skipIf(target.skip)('When the old columns of a row differ from profile_data, then at read-shift 100% v2 answers the old columns (fallback) and in live profile_data (new)', async () => {
    database = await target.create();
    const { db } = database;
    const seeded = await seedV1Users(db, 10);
    await walkTo(db, 'read-shift 100%');
    v2 = await inProcessApp('v2', db);
    const id = seeded.ids[3]!;
    const behindTheBack = unique('old columns only');
    await db.update('UPDATE users SET name = $1 WHERE id = $2', [behindTheBack, id]);

    const verified = await request(v2.app).get(`/users/${id}`).expect(200);
    const live = await step(db, 'advance');
    const { version } = (await storedFlagSet(db))!;
    await waitFor(() => ((v2!.flags.loaded().version ?? -1) >= version ? true : undefined), { what: 'v2 to load live' });
    const trusted = await request(v2.app).get(`/users/${id}`).expect(200);

    expect(verified.headers['x-read-source']).toBe('fallback');
    expect(verified.body.name).toBe(behindTheBack);
    expect(live).toMatchObject({ outcome: 'completed', to: { label: 'live' } });
    expect(trusted.headers['x-read-source']).toBe('new');
    expect(trusted.body).toEqual({ id, ...seeded.fields.get(id)! });
  });
});
