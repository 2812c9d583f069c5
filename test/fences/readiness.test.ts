// Ready means registered (docs/fences.md): until an instance has registered in the instance registry and
// loaded its flags it refuses connections on its public port (a balancer passes over a refused slot; it would
// hand a 503 to the client), while its ops port answers /healthz 503 "starting" and /livez 200.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../load/infra/balancer/ports.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';
import { connectError } from '../support/raw-http.ts';
import { lockRegistry, probe } from './support.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const targets = await databaseTargets();

describe.each(targets)('readiness on $name', (target) => {
  let database: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await database?.drop();
    database = child = undefined;
  });

  it.skipIf(target.skip)('When an instance cannot register yet, then its public port refuses connections while /healthz says starting and /livez 200, and it serves once registered', async () => {
    database = await target.create();
    const instanceId = unique('not-yet-registered');
    const [port, opsPort] = [await freePort(), await freePort()];
    const lock = await lockRegistry(database);
    let output = '';
    let beforeRegistered: { publicPort: string | null; healthz: unknown; livez: unknown };
    try {
      child = spawnTsx('app-v2/server.ts', [], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: database.url, PORT: String(port), OPS_PORT: String(opsPort), INSTANCE_ID: instanceId, LOG_LEVEL: 'warn' },
      });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // The public port accepting at any moment before registration is the finding; the ops line is printed
      // once the start-up checks passed, just before the flags load and the (blocked) registration.
      beforeRegistered = await waitFor(async () => {
        const publicPort = await connectError(port);
        if (publicPort === null || output.includes('ops port')) return { publicPort, healthz: await probe(opsPort, '/healthz'), livez: await probe(opsPort, '/livez') };
        return undefined;
      }, { timeoutMs: 30_000, intervalMs: 20, what: 'the public port to accept or the ops port line' });
    } finally {
      await lock.release();
    }

    expect(beforeRegistered.publicPort, output).toBe('ECONNREFUSED');
    expect(beforeRegistered.healthz).toMatchObject({ status: 503, body: { status: 'starting' } });
    expect(beforeRegistered.livez).toMatchObject({ status: 200 });
    const ready = await waitFor(async () => {
      const answer = await probe(port, '/healthz');
      return 'status' in answer ? answer : undefined;
    }, { timeoutMs: 15_000, intervalMs: 50, what: 'the public port to open' });
    expect(ready, output).toMatchObject({ status: 200, body: { status: 'ok' } });
    const { alive } = await instanceRegistry(database.db).list({ recent: 0 });
    expect(alive.map((row) => row.instanceId)).toContain(instanceId);
  }, 60_000);
});
