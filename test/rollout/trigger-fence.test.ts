// The database fence under SYNC=app (shared/rollout/transitions.ts, shared/rollout/sync.ts): `rollout advance` to
// live installs the up (copy-forward) trigger before reads trust profile_data, and `rollback` below live removes
// it, so a v1 write still in flight in an instance that froze past its stage guard reaches profile_data instead
// of being lost. Through the real gated transitions; the v1 write is v1's own statement (usersRepository.updateOld).
import { describe, expect, it } from 'vitest';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { rolloutStatus, formatStatus } from '../../shared/rollout/status.ts';
import { syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { databaseTargets, uniqueFields } from '../support/databases.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { stageLabel, step, walkTo } from './walk.ts';

const targets = await databaseTargets();


describe.each(targets)('the trigger fence (SYNC=app) on $name', (target) => {
  it.skipIf(target.skip)(
    'When the rollout advances to live, then a v1-style write of the old columns only reaches profile_data; after a rollback below live the trigger is gone and such a write leaves profile_data as it was',
    async () => {
      const database = await target.create();
      try {
        const { db } = database;
        const [id] = (await seedV1Users(db, 5)).ids;
        await walkTo(db, 'read-shift 100%');
        const beforeLive = await syncTriggerPresence(db);
        const users = usersRepository(db);

        const toLive = await step(db, 'advance');
        const inLive = await syncTriggerPresence(db);
        const status = formatStatus(await rolloutStatus(db));
        const lateV1 = uniqueFields('frozen-v1');
        await users.updateOld(id!, lateV1);
        const afterLateWrite = await storedUser(db, id!);
        const toReadShift = await step(db, 'rollback');
        const afterRollback = await syncTriggerPresence(db);
        const v1Again = uniqueFields('v1-read-shift');
        await users.updateOld(id!, v1Again);
        const afterV1 = await storedUser(db, id!);

        expect(beforeLive).toEqual({ up: 'absent', down: 'absent' });
        expect(toLive).toMatchObject({ outcome: 'completed', to: { label: 'live' } });
        expect(inLive).toEqual({ up: 'installed', down: 'absent' });
        expect(status).toContain('sync      app (the default: none recorded); triggers: up installed, down absent');
        expect({ ...afterLateWrite, profile: storedProfile(afterLateWrite!.profileRaw) }).toMatchObject({ ...lateV1, profile: lateV1 });
        expect(toReadShift).toMatchObject({ outcome: 'completed', to: { label: 'read-shift 100%' } });
        expect(await stageLabel(db)).toBe('read-shift 100%');
        expect(afterRollback).toEqual({ up: 'absent', down: 'absent' });
        expect({ ...afterV1, profile: storedProfile(afterV1!.profileRaw) }).toMatchObject({ ...v1Again, profile: lateV1 });
      } finally {
        await database.drop();
      }
    },
    60_000,
  );
});
