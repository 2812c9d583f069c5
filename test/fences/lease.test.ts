// Leases, not hopes (docs/fences.md): an instance serves public requests only while its registry lease is
// fresh, checked on every request against the monotonic clock. So a process frozen (SIGSTOP) past its lease
// refuses the requests waiting for it before it touches the database, and one whose heartbeat hangs stops
// serving when the registry stops counting it alive: "alive" and "serving" are the same set.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../load/infra/balancer/ports.ts';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../shared/config.ts';
import { ALIVE_HEARTBEATS, instanceRegistry } from '../../shared/registry/instances.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { connectError, RawConnection } from '../support/raw-http.ts';
import { storedUser } from '../support/rows.ts';
import { lockRegistry, probe } from './support.ts';

const targets = await databaseTargets();
const HEARTBEAT_MS = 200;
const LEASE_MS = ALIVE_HEARTBEATS * HEARTBEAT_MS;

const json = (method: string, path: string, body: unknown) => {
  const text = JSON.stringify(body);
  return `${method} ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
};

describe.each(targets)('leases on $name', (target) => {
  let database: TestDatabase | undefined;
  let v1: InstanceProcess | undefined;
  const connections: RawConnection[] = [];
  afterEach(async () => {
    if (v1) process.kill(v1.pid, 'SIGCONT');
    for (const connection of connections.splice(0)) connection.destroy();
    await v1?.stop('SIGKILL');
    await database?.drop();
    database = v1 = undefined;
  });

  const isAlive = async (instanceId: string) => (await instanceRegistry(database!.db).list({ recent: 0 })).alive.some((row) => row.instanceId === instanceId);

  it.skipIf(target.skip)('When a v1 is frozen (SIGSTOP) past its lease and resumed, then the GET and PUT that waited on its keep-alive connections are closed unanswered (a balancer re-sends them elsewhere), the POST is refused 503 lease_lost, nothing is written; it serves again once it renewed', async () => {
    database = await target.create();
    const instanceId = unique('frozen-v1');
    v1 = await startInstanceProcess('v1', { DATABASE_URL: database.url, INSTANCE_ID: instanceId, HEARTBEAT_MS: String(HEARTBEAT_MS) });
    const [forGet, forPut, forPost] = await Promise.all([0, 1, 2].map(() => RawConnection.open(v1!.port)));
    connections.push(forGet!, forPut!, forPost!);
    const name = unique('before-freeze');
    forPut!.write(json('POST', '/users', { name, email: `${name}@example.test` }));
    const created = await forPut!.response();
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.body) as { id: number }).id;
    for (const connection of [forGet!, forPost!]) {
      connection.write(`GET /users/${id} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
      expect((await connection.response()).status).toBe(200);
    }

    process.kill(v1.pid, 'SIGSTOP');
    await waitFor(async () => ((await isAlive(instanceId)) ? undefined : true), { timeoutMs: LEASE_MS + 5000, intervalMs: 50, what: 'the frozen v1 to drop out of alive' });
    const during = unique('while-frozen');
    forGet!.write(`GET /users/${id} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
    forPut!.write(json('PUT', `/users/${id}`, { name: during, email: `${during}@example.test` }));
    forPost!.write(json('POST', '/users', { name: during, email: `${during}.new@example.test` }));
    process.kill(v1.pid, 'SIGCONT');

    expect(await forGet!.closed(), 'the GET').toBe('');
    expect(await forPut!.closed(), 'the PUT').toBe('');
    const refusedPost = await forPost!.response();
    expect(refusedPost.status, refusedPost.body).toBe(503);
    expect(JSON.parse(refusedPost.body)).toMatchObject({ error: { code: 'lease_lost' } });
    expect(refusedPost.headers.connection).toBe('close');
    expect(await storedUser(database.db, id)).toMatchObject({ name });
    expect(await database.db.select('SELECT id FROM users WHERE name = $1', [during])).toEqual([]);
    const served = await waitFor(async () => {
      const answer = await probe(v1!.port, `/users/${id}`);
      return 'status' in answer && answer.status === 200 ? answer : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50, what: 'the resumed v1 to renew and serve' });
    expect(served.body).toMatchObject({ id, name });
    expect(await isAlive(instanceId)).toBe(true);
  }, 60_000);

  it.skipIf(target.skip)('When an instance\'s heartbeat hangs on a lock, then it closes its public port and its idle keep-alive connections no later than the registry stops counting it alive, /healthz says lease-lost and /livez stays 200, and it serves again after the lock is gone', async () => {
    database = await target.create();
    const instanceId = unique('hung-heartbeat');
    const opsPort = await freePort();
    v1 = await startInstanceProcess('v1', { DATABASE_URL: database.url, INSTANCE_ID: instanceId, HEARTBEAT_MS: String(HEARTBEAT_MS), OPS_PORT: String(opsPort) });
    expect(await connectError(v1.port)).toBeNull();
    const idle = await RawConnection.open(v1.port);
    connections.push(idle);
    idle.write('GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n');
    expect((await idle.response()).status).toBe(200);
    const idleSince = Date.now();

    const lock = await lockRegistry(database);
    let whileHung: { publicPort: string | null; healthz: unknown; livez: unknown };
    let onceGone: { publicPort: string | null };
    try {
      whileHung = await waitFor(async () => {
        const publicPort = await connectError(v1!.port);
        return publicPort === null ? undefined : { publicPort, healthz: await probe(opsPort, '/healthz'), livez: await probe(opsPort, '/livez') };
      }, { timeoutMs: LEASE_MS + 10_000, intervalMs: 50, what: 'the public port to close while the heartbeat hangs' });
      // The lease runs from when a heartbeat was sent, the registry's window from when it was written: the
      // instance stops serving first. What must hold: once the registry no longer counts it, it does not serve.
      onceGone = await waitFor(async () => ((await isAlive(instanceId)) ? undefined : { publicPort: await connectError(v1!.port) }), {
        timeoutMs: LEASE_MS + 10_000,
        intervalMs: 50,
        what: 'the registry to stop counting the hung instance',
      });
    } finally {
      await lock.release();
    }

    expect(whileHung.publicPort).toBe('ECONNREFUSED');
    // Left open, the balancer would keep sending on it: each request refused instead of passed to another slot.
    // Closed by the lease loss, not by Node's keep-alive timeout.
    expect(idle.closedAt, 'the idle keep-alive connection').not.toBeNull();
    expect(idle.closedAt! - idleSince).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
    expect(onceGone.publicPort).toBe('ECONNREFUSED');
    expect(whileHung.healthz).toMatchObject({ status: 503, body: { status: 'lease-lost' } });
    expect(whileHung.livez).toMatchObject({ status: 200 });
    await waitFor(async () => ((await connectError(v1!.port)) === null && (await isAlive(instanceId)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'the instance to renew and listen again' });
    expect(await probe(opsPort, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  }, 60_000);
});
