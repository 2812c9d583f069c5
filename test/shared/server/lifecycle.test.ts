// Drain without losing a request (shared/server/lifecycle.ts), on a real process and real sockets: after
// SIGTERM an instance refuses new connections, never closes an idle keep-alive connection itself (a balancer
// may be sending on it), answers what still arrives with `Connection: close`, finishes in-flight requests,
// and exits 0 with its stop recorded. And the timeouts that make that safe are ordered.
import fs from 'node:fs';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BALANCER_UPSTREAM_KEEPALIVE_TIMEOUT_MS, DRAIN_DEADLINE_MS, KEEP_ALIVE_TIMEOUT_MS } from '../../../shared/config.ts';
import { instanceRegistry } from '../../../shared/registry/instances.ts';
import { listen } from '../../../shared/server/lifecycle.ts';
import type { RunningServer } from '../../../shared/server/lifecycle.ts';
import { databaseTargets, unique } from '../../support/databases.ts';
import { startInstanceProcess, waitFor } from '../../support/instances.ts';
import { connectError, RawConnection } from '../../support/raw-http.ts';
import { storedProfile, storedUser } from '../../support/rows.ts';

const targets = await databaseTargets();

/** How long the idle keep-alive connection must survive the SIGTERM untouched. */
const IDLE_SURVIVES_MS = 1500;

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`;

describe('timeouts', () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    await running?.drain();
    running = undefined;
  });

  it('When the timeouts are compared, then balancer keepalive < Node keepAliveTimeout < drain deadline', () => {
    expect(BALANCER_UPSTREAM_KEEPALIVE_TIMEOUT_MS).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeLessThan(DRAIN_DEADLINE_MS);
  });

  it('When an instance listens, then its server uses KEEP_ALIVE_TIMEOUT_MS and a longer headers timeout', async () => {
    running = await listen((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });

    expect(running.server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(running.server.headersTimeout).toBeGreaterThan(KEEP_ALIVE_TIMEOUT_MS);
    expect(running.port).toBeGreaterThan(0);
  });

  it('When listen is asked for a keep-alive timeout not shorter than the drain deadline, then it refuses', async () => {
    await expect(listen((_req, res) => res.end(), { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 3000, drainDeadlineMs: 3000 })).rejects.toThrow(/keepAliveTimeout/);
  });

  it('When a paused server is asked for any port (PORT=0), then it names one outside the kernel\'s ephemeral range, so no outgoing connection can take it before it opens', async () => {
    // CI found it: an instance named its public port from the ephemeral range, closed it until registered, and a
    // test's outgoing connection got that port meanwhile (EADDRINUSE at registration, exit 1).
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    for (let i = 0; i < 5; i++) {
      running = await listen(() => {}, { port: 0, host: '127.0.0.1', paused: true });
      expect(running.port < low || running.port > high, `port ${running.port} within the ephemeral range ${low}-${high}`).toBe(true);
      await running.resume();
      expect(running.listening).toBe(true);
      await running.drain();
    }
  });

  it('When an idle keep-alive server drains, then it finishes without forcing connections', async () => {
    running = await listen((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      http.get({ port: running!.port, host: '127.0.0.1', agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
    agent.destroy(); // the client closes its idle connection, as the balancer does before keepAliveTimeout

    expect(await running.drain()).toEqual({ forced: false });
  });
});

describe.each(targets)('drain of a real process on $name', (target) => {
  it.skipIf(target.skip)(
    'When an instance gets SIGTERM, then it refuses new connections, keeps an idle keep-alive connection open and answers on it with Connection: close, finishes an in-flight request, and exits 0 marked stopped',
    async () => {
      const database = await target.create();
      const instanceId = unique('drain');
      const v2 = await startInstanceProcess('v2', { DATABASE_URL: database.url, INSTANCE_ID: instanceId });
      const connections: RawConnection[] = [];
      try {
        // Arrange: an idle keep-alive connection that has served a request...
        const idle = await RawConnection.open(v2.port);
        connections.push(idle);
        idle.write(get('/healthz'));
        const first = await idle.response();
        expect(first.status).toBe(200);
        expect(first.headers.connection).toBe('keep-alive');
        // ...and a request in flight: headers received (the 100 Continue proves it), body not yet complete.
        const name = unique('in-flight');
        const body = Buffer.from(JSON.stringify({ name, email: `${name}@example.test` }));
        const inFlight = await RawConnection.open(v2.port);
        connections.push(inFlight);
        inFlight.write(
          `POST /users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
        );
        expect((await inFlight.response()).status).toBe(100);
        inFlight.write(body.subarray(0, 10));

        // Act
        v2.child.kill('SIGTERM');
        await waitFor(() => (v2.output().includes('SIGTERM, draining') ? true : undefined), { what: 'the drain to start' });

        // (a) a new connection is refused
        expect(await connectError(v2.port)).toBe('ECONNREFUSED');
        // (b) the idle keep-alive connection stays open (absence of a close can only be observed by waiting)
        await new Promise((resolve) => setTimeout(resolve, IDLE_SURVIVES_MS));
        expect(idle.closedAt).toBeNull();
        expect(v2.child.exitCode).toBeNull();
        idle.write(get('/healthz'));
        const onIdle = await idle.response();
        expect(onIdle.status).toBe(200);
        expect(onIdle.headers.connection).toBe('close');
        await waitFor(() => (idle.closedAt !== null ? true : undefined), { what: 'the server to close the connection after answering' });
        // (c) the in-flight request completes and is stored
        inFlight.write(body.subarray(10));
        const created = await inFlight.response();
        expect(created.status).toBe(201);
        expect(created.headers.connection).toBe('close');
        const id = (JSON.parse(created.body) as { id: number }).id;
        const row = await storedUser(database.db, id);
        expect(row).toMatchObject({ name, email: `${name}@example.test` });
        expect(storedProfile(row!.profileRaw)).toEqual({ name, email: `${name}@example.test` });
        // (d) the process exits 0 and its registry row records the stop
        expect(await v2.exited).toEqual({ code: 0, signal: null });
        expect(v2.output()).not.toContain('drain deadline reached');
        const { alive, gone } = await instanceRegistry(database.db).list({ recent: 100 });
        expect(alive.find((i) => i.instanceId === instanceId)).toBeUndefined();
        expect(gone.find((i) => i.instanceId === instanceId)?.stoppedAt).not.toBeNull();
      } finally {
        for (const connection of connections) connection.destroy();
        await v2.stop('SIGKILL');
        await database.drop();
      }
    },
  );
});
