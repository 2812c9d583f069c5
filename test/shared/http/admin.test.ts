// The admin API (shared/http/admin.ts): flags over HTTP for rollout tooling. Off (404) unless ADMIN_TOKEN is
// set; with it, no token is 401, a wrong token 403, and a bad flag or value a 400 naming the flag that
// changes nothing.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSIONS } from '../../../shared/config.ts';
import { databaseTargets } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';
import { storedFlagSet } from '../../support/flags.ts';
import { inProcessApp } from '../../support/instances.ts';
import type { InProcessApp } from '../../support/instances.ts';

const targets = await databaseTargets();

const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;

describe.each(targets)('admin API on $name', (target) => {
  let database: TestDatabase;
  let withToken: InProcessApp;
  const withoutToken = new Map<string, InProcessApp>();

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    withToken = await inProcessApp('v2', database.db, { ADMIN_TOKEN });
    for (const version of APP_VERSIONS) withoutToken.set(version, await inProcessApp(version, database.db));
  });
  afterAll(async () => {
    await withToken?.close();
    for (const app of withoutToken.values()) await app.close();
    await database?.drop();
  });

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  /** A percentage different from the stored one, so a change is visible. */
  const anotherPercent = async () => ((await storedFlagSet(database.db))!.values['read-new-percent'] + 17) % 101;

  it.skipIf(target.skip)('When GET /admin/flags has the right token, then 200 with the stored flag set', async () => {
    const stored = await storedFlagSet(database.db);

    const res = await request(withToken.app).get('/admin/flags').set(bearer(ADMIN_TOKEN)).expect(200);

    expect(res.body).toMatchObject({ version: stored!.version, flags: stored!.values });
  });

  it.skipIf(target.skip)('When PUT /admin/flags has the right token, then 200 and the database holds the new value under a new version', async () => {
    const before = await storedFlagSet(database.db);
    const percent = await anotherPercent();

    const res = await request(withToken.app).put('/admin/flags').set(bearer(ADMIN_TOKEN)).send({ 'read-new-percent': percent }).expect(200);

    const after = await storedFlagSet(database.db);
    expect(after).toEqual({ version: before!.version + 1, values: { ...before!.values, 'read-new-percent': percent } });
    expect(res.body.version).toBe(after!.version);
  });

  for (const method of ['GET', 'PUT'] as const) {
    const send = (app: InProcessApp, headers: Record<string, string>) => {
      const req = method === 'GET' ? request(app.app).get('/admin/flags') : request(app.app).put('/admin/flags');
      req.set(headers);
      return method === 'GET' ? req : req.send({ 'dual-read': true });
    };

    it.skipIf(target.skip)(`When ${method} /admin/flags has no token, then 401 and nothing changes`, async () => {
      const before = await storedFlagSet(database.db);

      const res = await send(withToken, {});

      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body.error.message).toMatch(/^authorization:/);
      expect(await storedFlagSet(database.db)).toEqual(before);
    });

    it.skipIf(target.skip)(`When ${method} /admin/flags has a wrong token, then 403 and nothing changes`, async () => {
      const before = await storedFlagSet(database.db);

      const res = await send(withToken, bearer(`${ADMIN_TOKEN.slice(0, -1)}x`));

      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/^authorization:/);
      expect(await storedFlagSet(database.db)).toEqual(before);
    });

    for (const version of APP_VERSIONS) {
      it.skipIf(target.skip)(`When ${version} runs without ADMIN_TOKEN, then ${method} /admin/flags is 404 even with a token, and nothing changes`, async () => {
        const before = await storedFlagSet(database.db);

        const res = await send(withoutToken.get(version)!, bearer(ADMIN_TOKEN));

        expect(res.status).toBe(404);
        expect(await storedFlagSet(database.db)).toEqual(before);
      });
    }
  }

  const refusals = [
    { label: 'an unknown flag', body: { 'no-such-flag': 1 }, flag: 'no-such-flag' },
    { label: 'a percentage over 100', body: { 'read-new-percent': 101 }, flag: 'read-new-percent' },
    { label: 'a negative percentage', body: { 'read-new-percent': -1 }, flag: 'read-new-percent' },
    { label: 'a percentage given as a string', body: { 'read-new-percent': '50' }, flag: 'read-new-percent' },
    { label: 'a boolean given as a number', body: { 'dual-read': 1 }, flag: 'dual-read' },
    { label: 'a valid flag next to a bad one', body: { 'read-new-percent': 5, 'dual-read': 'yes' }, flag: 'dual-read' },
  ];
  for (const { label, body, flag } of refusals) {
    it.skipIf(target.skip)(`When PUT /admin/flags has ${label}, then 400 naming ${flag} and nothing changes`, async () => {
      const before = await storedFlagSet(database.db);

      const res = await request(withToken.app).put('/admin/flags').set(bearer(ADMIN_TOKEN)).send(body);

      expect(res.status).toBe(400);
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
      expect(res.body.error.message).toContain(flag);
      expect(await storedFlagSet(database.db)).toEqual(before);
    });
  }
});
