// An instance's public port accepts connections only once the instance is ready (registered, flags loaded:
// docs/fences.md), so a client polling from the moment the process starts (the workshop guide's
// `until curl ... /healthz`, a balancer probing the slot) sees "connection refused" until then and a 200 on
// the first connection accepted, never a reset or a crash. The client polls every few milliseconds from the
// moment the process starts, so the first connection the server accepts is the earliest one it could.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../load/infra/balancer/ports.ts';
import { databaseTargets } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';
import { spawnTsx } from '../../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const targets = await databaseTargets();

function getOnce(port: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: -1, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? null : { status: -1, body: err.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe.each(targets)('start-up on $name', (target) => {
  let database: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await database?.drop();
    database = child = undefined;
  });

  it.skipIf(target.skip)('When /healthz is polled from the moment a v2 process starts, then the first request it accepts is answered 200 and the process keeps running', async () => {
    database = await target.create();
    const port = await freePort();
    let output = '';
    child = spawnTsx('app-v2/server.ts', [], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'warn' },
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    let first: { status: number; body: string } | null = null;
    const deadline = Date.now() + 30_000;
    while (first === null && Date.now() < deadline && child.exitCode === null) {
      first = await getOnce(port);
      if (first === null) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(first, output).not.toBeNull();
    expect(first!.status, `${first!.body}\n${output}`).toBe(200);
    expect(JSON.parse(first!.body)).toMatchObject({ version: 'v2', status: 'ok' });
    expect(child.exitCode, output).toBeNull();
    expect(output).not.toMatch(/TypeError/);
  }, 60_000);
});
