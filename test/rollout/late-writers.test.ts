// The way back when a late writer wrote where nobody reads (issue 15, finding 1): following the advice of
// `rollout status` and the refusals must never overwrite an acknowledged write, and must never leave the
// rollout stuck. The late v1 is what the registry shows of one (registered, heartbeating, stopped) and writes
// exactly v1's statements (usersRepository's *Old functions); new-only writes are v2's new-only statements.
// The repair runs as the real commands (npm run backfill [-- --reverse]); the stage changes through the same
// gated transitions `npm run rollout` uses.
// Each test removes the trigger fence the rollout installs on the way into live (shared/rollout/sync.ts), as on a
// database where the rollout could not create it: with the fence, a late v1's write reaches profile_data
// (test/rollout/trigger-fence.test.ts); these tests are about the way back when one reached only the old columns.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { formatDbTime } from '../../shared/db/time.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { dropSyncTriggers, syncTriggerPresence } from '../../shared/sync/triggers.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { inProcessApp, waitFor } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile } from '../support/rows.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { clock, clockPasses, stageLabel, step, verify, walkTo } from './walk.ts';
import type { Key } from '../../shared/mapping-contract.ts';

const targets = await databaseTargets();

const fields = (label: string) => ({ name: unique(label), email: `${unique(label.split(' ')[0]!)}@example.test` });

/** A v1 instance as the registry sees one. */
async function registerV1(db: Database) {
  const registry = instanceRegistry(db);
  const rowId = await registry.register({ instanceId: unique('v1-late'), appVersion: 'v1', address: '127.0.0.1:1', pid: 1, heartbeatMs: 1000 }, null);
  return {
    rowId,
    /** As a v1 frozen (SIGSTOP) for ten seconds looks: its last heartbeat long ago, so it no longer counts as alive. */
    freeze: (at: number) => db.update('UPDATE app_instances SET started_at = $1, last_seen = $1 WHERE row_id = $2', [formatDbTime(at - 10_000), rowId]),
    heartbeat: () => registry.heartbeat(rowId, null),
    stop: () => registry.markStopped(rowId),
  };
}

/** Drops the rollout's trigger fence (the up trigger), checking it was there. */
async function withoutFence(db: Database) {
  expect((await syncTriggerPresence(db)).up).toBe('installed');
  await dropSyncTriggers(db, ['up']);
}

/** Every row's old columns and parsed profile_data. */
async function row(db: Database, id: Key) {
  const [r] = await db.select<{ name: string | null; email: string | null; profile_data: unknown }>('SELECT name, email, profile_data FROM users WHERE id = $1', [id]);
  return { old: r!.name === null ? null : { name: r!.name, email: r!.email }, profile: storedProfile(r!.profile_data) };
}

describe.each(targets)('late writers on $name', (target) => {
  let database: TestDatabase | undefined;
  const apps: InProcessApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database?.drop();
    database = undefined;
  });

  const backfillCli = (args: string[]) => runScript('cli/backfill.ts', args, { DATABASE_URL: database!.url }, { timeoutMs: 60_000 });
  const loaded = async (app: InProcessApp) => {
    const { version } = (await storedFlagSet(database!.db))!;
    await waitFor(() => ((app.flags.loaded().version ?? -1) >= version ? true : undefined), { what: `flag-set version ${version}` });
  };

  it.skipIf(target.skip)('When a v1 started in new-only updated and created users, then the way back keeps its writes and new-only\'s, names the row it cannot decide, and ends in read-shift with every row right', async () => {
    database = await target.create();
    const { db } = database;
    const seeded = await seedV1Users(db, 10);
    const [idA, idB] = seeded.ids;
    await walkTo(db, 'new-only');
    await withoutFence(db);
    const repo = usersRepository(db);
    const v1 = await registerV1(db);
    const v1Update = fields('v1 update');
    await repo.updateOld(idA!, v1Update);
    const v1Create = fields('v1 create');
    const idC = (await repo.insertOld(v1Create)).id;
    await v1.stop();
    await clockPasses(db, await clock(db));
    const newOnlyUpdate = fields('new-only update');
    await repo.updateNewOnly(idB!, JSON.stringify(newOnlyUpdate));
    const newOnlyCreate = fields('new-only create');
    const idD = await repo.insertNewOnly(JSON.stringify(newOnlyCreate));

    const toLive = await step(db, 'rollback');
    const reverse = await backfillCli(['--reverse']);
    const afterReverse = await row(db, idA!);
    const forward = await backfillCli([]);
    const leaveBeforeResolving = await step(db, 'rollback');
    // The one decision the data cannot make: the operator knows v1's update is the newest and writes it through v2.
    const v2 = await inProcessApp('v2', db);
    apps.push(v2);
    await loaded(v2);
    await request(v2.app).put(`/users/${idA}`).send(v1Update).expect(200);
    const check = await verify(db, 'dual');
    const toReadShift = await step(db, 'rollback');

    expect(toLive).toMatchObject({ outcome: 'completed', to: { label: 'live' } });
    expect(reverse.code, reverse.stderr).toBe(0);
    expect(afterReverse).toEqual({ old: v1Update, profile: seeded.fields.get(idA!) });
    expect(reverse.stdout).toMatch(new RegExp(`1 drifted row \\(ids ${idA}\\) were last written while both a late v1 .* and new-only .* could write them`));
    expect(forward.code, forward.stderr).toBe(0);
    expect(leaveBeforeResolving).toMatchObject({ outcome: 'refused', reasons: [expect.stringMatching(/^the old columns were not written in new-only .* and a v1 wrote only the old columns after live began/)] });
    expect(check.drift).toBe(0);
    expect(toReadShift).toMatchObject({ outcome: 'completed', to: { label: 'read-shift 100%' } });
    expect(await row(db, idA!)).toEqual({ old: v1Update, profile: v1Update });
    expect(await row(db, idB!)).toEqual({ old: newOnlyUpdate, profile: newOnlyUpdate });
    expect(await row(db, idC)).toEqual({ old: v1Create, profile: v1Create });
    expect(await row(db, idD)).toEqual({ old: newOnlyCreate, profile: newOnlyCreate });
  }, 180_000);

  it.skipIf(target.skip)('When a v1 frozen across the live gate writes after it, then a reverse backfill is refused (it would overwrite that write), and rollback, backfill, verify bring the write into profile_data', async () => {
    database = await target.create();
    const { db } = database;
    const seeded = await seedV1Users(db, 10);
    const idA = seeded.ids[0]!;
    const v1 = await registerV1(db);
    await v1.freeze(await clock(db));
    await walkTo(db, 'live');
    await withoutFence(db);
    await v1.heartbeat();
    const v1Update = fields('frozen v1 update');
    await usersRepository(db).updateOld(idA, v1Update);
    await v1.stop();

    const reverse = await backfillCli(['--reverse']);
    const forwardInLive = await backfillCli([]);
    const toReadShift = await step(db, 'rollback');
    const v2 = await inProcessApp('v2', db);
    apps.push(v2);
    await loaded(v2);
    const readBack = await request(v2.app).get(`/users/${idA}`).expect(200);
    const forward = await backfillCli([]);
    const check = await verify(db, 'dual');

    expect(reverse.code).toBe(1);
    expect(reverse.lines).toEqual([expect.stringMatching(/^backfill: refused: the stage is live and the old columns hold every write .* a reverse backfill would overwrite a v1's newer write; the way back is npm run rollout -- rollback .*, then npm run backfill, then npm run verify$/)]);
    expect(forwardInLive.code).toBe(1);
    expect(forwardInLive.lines).toEqual([expect.stringMatching(/^backfill: refused: the stage is live: .*the way back is npm run rollout -- rollback/)]);
    expect(toReadShift).toMatchObject({ outcome: 'completed', to: { label: 'read-shift 100%' } });
    expect(readBack.body).toEqual({ id: idA, ...v1Update });
    expect(forward.code, forward.stderr).toBe(0);
    expect(check.drift).toBe(0);
    expect(await stageLabel(db)).toBe('read-shift 100%');
    expect(await row(db, idA)).toEqual({ old: v1Update, profile: v1Update });
  }, 120_000);
});
