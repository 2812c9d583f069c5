// Reads from a replica, read-your-writes kept across versions by the consistency token (shared/db/replica/).
// A real MariaDB primary and GTID replica of our own (load/infra/private-mariadb.ts), or the template CI's MySQL
// 8.4 pair (REPLICA_PAIR_*_URL: test/replica/external-pair.ts); lag is injected by stopping the replica's SQL
// thread. Every test uses its own users and asserts what each server holds.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readYourWrites, waitForPosition } from '../../shared/db/replica/read-your-writes.ts';
import type { Flags } from '../../shared/flags/index.ts';
import { unique } from '../support/databases.ts';
import { replicaApp, replicaUnavailable, startReplicaSetup, title } from './support.ts';
import type { ReplicaSetup } from './support.ts';

type App = Awaited<ReturnType<typeof replicaApp>>['app'];

describe.skipIf(replicaUnavailable !== null)(title('read replica with consistency tokens'), () => {
  let setup: ReplicaSetup;
  let v1: App;
  let v2: App;
  let naive: App;
  const flags: Flags[] = [];

  beforeAll(async () => {
    setup = await startReplicaSetup();
    const apps = await Promise.all([replicaApp('v1', setup), replicaApp('v2', setup), replicaApp('v2', setup, { ANTI_PATTERN: 'replica-reads' })]);
    [v1, v2, naive] = apps.map((a) => a.app) as [App, App, App];
    flags.push(...apps.map((a) => a.flags));
  }, 60_000);
  afterAll(async () => {
    await setup?.pair.startReplicaSqlThread().catch(() => {});
    await Promise.all(flags.map((f) => f.close()));
    await setup?.stop();
  });

  const nameOn = async (server: 'primary' | 'replica', id: number) => {
    const [row] = await setup[server].select<{ name: string }>('SELECT name FROM users WHERE id = $1', [id]);
    return row?.name ?? null;
  };
  const withSqlThreadStopped = async <T>(work: () => Promise<T>): Promise<T> => {
    await setup.pair.stopReplicaSqlThread();
    try {
      return await work();
    } finally {
      await setup.pair.startReplicaSqlThread();
    }
  };

  it('When replication runs, then a write on the primary is on the replica after waiting for its token', async () => {
    const reads = readYourWrites({ primary: setup.primary, replica: setup.replica });
    const name = unique('replicated');
    const id = await setup.primary.insert("INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, 'r@example.test', NOW(3), NOW(3))", [name]);

    const token = await reads.tokenAfterWrite();

    expect(token).toMatch(reads.replication.tokenPattern);
    expect(await waitForPosition(setup.replica, reads.replication, token, 10_000)).toBe(true);
    expect(await nameOn('replica', id)).toBe(name);
  });

  it('When a user writes through v2 and reads through v1 with the token, then v1 returns that write, from the replica once it has it', async () => {
    const created = await request(v2).post('/users').send({ name: unique('a'), email: 'a@example.test' }).expect(201);
    const name = unique('b');
    const put = await request(v2).put(`/users/${created.body.id}`).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).send({ name, email: 'b@example.test' }).expect(200);
    const token = put.headers['x-consistency-token'] as string;

    const read = await request(v1).get(`/users/${created.body.id}`).set('X-Consistency-Token', token).expect(200);

    expect(read.body.name).toBe(name);
    expect(read.headers['x-read-from']).toBe('replica');
    expect(await nameOn('replica', created.body.id)).toBe(name);
  });

  it('When the replica SQL thread is stopped, then v1 and v2 still return the user\'s own latest write (from the primary) while the replica holds the old value', async () => {
    const first = unique('before');
    const created = await request(v1).post('/users').send({ name: first, email: 'c@example.test' }).expect(201);
    await setup.caughtUp();
    const latest = unique('during-lag');

    const reads = await withSqlThreadStopped(async () => {
      const put = await request(v1).put(`/users/${created.body.id}`).send({ name: latest, email: 'c2@example.test' }).expect(200);
      const token = put.headers['x-consistency-token'] as string;
      const viaV2 = await request(v2).get(`/users/${created.body.id}`).set('X-Consistency-Token', token).expect(200);
      const viaV1 = await request(v1).get(`/users/${created.body.id}`).set('X-Consistency-Token', token).expect(200);
      return { viaV1, viaV2, replicaHeld: await nameOn('replica', created.body.id), primaryHeld: await nameOn('primary', created.body.id) };
    });

    expect(reads.replicaHeld).toBe(first);
    expect(reads.primaryHeld).toBe(latest);
    for (const read of [reads.viaV1, reads.viaV2]) {
      expect(read.body.name).toBe(latest);
      expect(read.headers['x-read-from']).toBe('primary');
      // A primary read answers with a fresh token: the client's next replica read cannot go back in time.
      expect(read.headers['x-consistency-token']).toMatch(readYourWrites({ primary: setup.primary, replica: setup.replica }).replication.tokenPattern);
    }
  });

  it('When the naive replica-reads v2 reads under the same lag, then it returns the stale value the replica holds', async () => {
    const first = unique('naive-before');
    const created = await request(v2).post('/users').send({ name: first, email: 'd@example.test' }).expect(201);
    await setup.caughtUp();
    const latest = unique('naive-during');

    const read = await withSqlThreadStopped(async () => {
      const put = await request(v2).put(`/users/${created.body.id}`).send({ name: latest, email: 'd2@example.test' }).expect(200);
      return request(naive).get(`/users/${created.body.id}`).set('X-Consistency-Token', String(put.headers['x-consistency-token'])).expect(200);
    });

    expect(await nameOn('primary', created.body.id)).toBe(latest);
    expect(read.headers['x-read-from']).toBe('replica');
    expect(read.body.name).toBe(first);
  });

  it('When a read carries a malformed token, then it is a 400 naming the header', async () => {
    const answer = await request(v1).get('/users/1').set('X-Consistency-Token', "0-1-1' OR 1=1").expect(400);

    expect(answer.body.error.code).toBe('invalid_consistency_token');
    expect(answer.body.error.message).toMatch(/^X-Consistency-Token: /);
  });
});
