// Request logs (shared/logger.ts): at info, one pino JSON line per request with the instance, the version and
// the request id (the caller's X-Request-Id, or a new one, answered in X-Request-Id); at the default level
// (warn) no request line and no per-request logging work at all.
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildV2App } from '../../app-v2/app.ts';
import { loadConfig } from '../../shared/config.ts';
import { startFlags } from '../../shared/flags/index.ts';
import type { Flags } from '../../shared/flags/index.ts';
import { createLogger } from '../../shared/logger.ts';
import { sqliteTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedUser } from '../support/rows.ts';

interface LogLine {
  level: number;
  instance: string;
  version: string;
  msg: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  responseTime?: number;
}

let database: TestDatabase;
const started: Flags[] = [];

async function appLoggingAt(level: string): Promise<{ app: Application; lines: LogLine[]; instanceId: string }> {
  const instanceId = unique(`logs-${level}`);
  const lines: LogLine[] = [];
  const logger = createLogger({ level, instanceId, appVersion: 'v2' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const config = loadConfig('v2', { FLAG_POLL_MS: '50' });
  const flags = await startFlags(database.db, { domain: instanceId, pollMs: config.FLAG_POLL_MS, logger });
  started.push(flags);
  return { app: buildV2App({ config, instanceId, db: database.db, flags, logger }), lines, instanceId };
}

beforeAll(async () => {
  database = await sqliteTarget().create();
});
afterAll(async () => {
  for (const flags of started) await flags.close();
  await database?.drop();
});

describe('request logs', () => {
  it('When an instance logs at info, then each request is one JSON line with instance, version, request id, status and time', async () => {
    const { app, lines, instanceId } = await appLoggingAt('info');
    const name = unique('logged');

    const created = await request(app).post('/users').set('X-Request-Id', 'client-chosen-id-1').send({ name, email: `${name}@example.test` }).expect(201);
    const read = await request(app).get(`/users/${created.body.id}`).expect(200);
    await request(app).get('/users/not-a-number').expect(400);

    const requestLines = lines.filter((l) => l.req);
    expect(requestLines).toHaveLength(3);
    expect(requestLines.map((l) => [l.req!.method, l.req!.url, l.res!.statusCode])).toEqual([
      ['POST', '/users', 201],
      ['GET', `/users/${created.body.id}`, 200],
      ['GET', '/users/not-a-number', 400],
    ]);
    for (const line of requestLines) {
      expect(line).toMatchObject({ level: 30, instance: instanceId, version: 'v2', msg: 'request completed' });
      expect(typeof line.responseTime).toBe('number');
    }
    expect(requestLines[0]!.req!.id).toBe('client-chosen-id-1');
    expect(created.headers['x-request-id']).toBe('client-chosen-id-1');
    // Without X-Request-Id the instance makes one up and answers it, so the line can be found from the response.
    expect(read.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines[1]!.req!.id).toBe(read.headers['x-request-id']);
    expect(await storedUser(database.db, created.body.id)).toMatchObject({ name });
  });

  it('When an instance logs at the default level (warn), then requests write no line and get no request id', async () => {
    const { app, lines } = await appLoggingAt('warn');
    const name = unique('quiet');

    const created = await request(app).post('/users').send({ name, email: `${name}@example.test` }).expect(201);
    await request(app).get(`/users/${created.body.id}`).expect(200);

    expect(lines).toEqual([]);
    expect(created.headers['x-request-id']).toBeUndefined();
    expect(await storedUser(database.db, created.body.id)).toMatchObject({ name });
  });
});
