// A real crash (SIGKILL) between the two statements of the two-statement dual-write strategies
// (FAULT_INJECT=crash-between-writes, in a real v2 process). `sequential` writes the old columns first and clears
// profile_data with them, so a crash leaves v1's view right and profile_data missing; `sequential-seed` (the common recipe's
// code) leaves profile_data stale, which dual-read must notice; `transaction` rolls the whole write back.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { inProcessApp, startInstanceProcess } from '../support/instances.ts';
import type { InProcessApp, InstanceProcess } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const targets = await databaseTargets();

describe.each(targets)('a crash between the dual-write statements on $name', (target) => {
  let database: TestDatabase;
  let v1: InProcessApp;
  let v2: InProcessApp;
  let crashing: InstanceProcess | undefined;

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    v1 = await inProcessApp('v1', database.db);
    v2 = await inProcessApp('v2', database.db);
    // Every read v2 makes goes to profile_data, so a stale one would be served unless dual-read notices.
    await setFlags(database.db, { 'read-new-percent': 100 }, [v2]);
  });
  afterEach(async () => {
    await crashing?.stop('SIGKILL');
    crashing = undefined;
  });
  afterAll(async () => {
    await v1?.close();
    await v2?.close();
    await database?.drop();
  });

  const fieldsFor = (label: string) => {
    const name = unique(label);
    return { name, email: `${name}@example.test` };
  };

  /** A user written by a healthy v2, then a PUT through a v2 that SIGKILLs itself between its two statements. */
  const crashDuringUpdate = async (strategy: 'sequential' | 'sequential-seed' | 'transaction') => {
    const previous = fieldsFor(`before-crash-${strategy}`);
    const { body } = await request(v2.app).post('/users').send(previous).expect(201);
    crashing = await startInstanceProcess('v2', { DATABASE_URL: database.url, DUAL_WRITE_STRATEGY: strategy, FAULT_INJECT: 'crash-between-writes' });
    const next = fieldsFor(`after-crash-${strategy}`);

    const put = request(crashing.url).put(`/users/${body.id}`).send(next);

    await expect(put).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' });
    return { id: body.id as number, previous, next };
  };

  it.skipIf(target.skip).each([
    ['sequential', 'missing (NULL)', () => null],
    ['sequential-seed', 'the previous value', (previous: object) => previous],
  ] as const)(
    'When %s crashes between its statements, then the old columns hold the new value, profile_data %s, and v1 and v2 both return the new value',
    async (strategy, _described, expectedProfile) => {
      const { id, previous, next } = await crashDuringUpdate(strategy);

      const row = await storedUser(database.db, id);
      expect(row).toMatchObject({ name: next.name, email: next.email });
      expect(row!.profileRaw === null ? null : storedProfile(row!.profileRaw)).toEqual(expectedProfile(previous));
      const byV1 = await request(v1.app).get(`/users/${id}`).expect(200);
      expect(byV1.body).toEqual({ id, ...next });
      const byV2 = await request(v2.app).get(`/users/${id}`).expect(200);
      expect(byV2.body).toEqual({ id, ...next });
      expect(byV2.headers['x-read-source']).toBe('fallback');
    },
  );

  it.skipIf(target.skip)('When transaction crashes between its statements, then nothing of the write remains and the row can be written again', async () => {
    const { id, previous } = await crashDuringUpdate('transaction');

    const row = await storedUser(database.db, id);
    expect(row).toMatchObject({ name: previous.name, email: previous.email });
    expect(storedProfile(row!.profileRaw)).toEqual(previous);
    expect((await request(v1.app).get(`/users/${id}`).expect(200)).body).toEqual({ id, ...previous });
    const byV2 = await request(v2.app).get(`/users/${id}`).expect(200);
    expect(byV2.body).toEqual({ id, ...previous });
    expect(byV2.headers['x-read-source']).toBe('new');
    // The dead process's transaction no longer holds the row (or the SQLite write lock).
    const later = fieldsFor('after-rollback');
    await request(v2.app).put(`/users/${id}`).send(later).expect(200);
    expect(await storedUser(database.db, id)).toMatchObject({ name: later.name, email: later.email });
  });
});
