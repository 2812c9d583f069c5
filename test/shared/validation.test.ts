// Bad input, through both versions (they share shared/validation.ts and the error shape): every bad request is
// a 4xx naming the field in {"error":{"code","message","details"}}, never a 500, never a stack trace or SQL,
// and the users table is exactly as it was (checked row by row in raw SQL).
import request from 'supertest';
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSIONS } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { usersTableSnapshot } from '../support/rows.ts';

const targets = await databaseTargets();

const validEmail = () => `${unique('bad-input')}@example.test`;
const json = (text: string) => (req: Test) => req.set('Content-Type', 'application/json').send(text);
const object = (body: () => unknown) => (req: Test) => req.send(body() as object);

interface BadBody {
  label: string;
  send: (req: Test) => Test;
  status: number;
  /** What the error message must start with. */
  field: string;
}

const emailOf255Chars = () => {
  const domain = '@example.test';
  return `${'a'.repeat(255 - domain.length)}${domain}`;
};

const badBodies: BadBody[] = [
  { label: 'an empty name', send: object(() => ({ name: '', email: validEmail() })), status: 400, field: 'name' },
  { label: 'a whitespace-only name', send: object(() => ({ name: '    ', email: validEmail() })), status: 400, field: 'name' },
  { label: 'a name of 101 code points', send: object(() => ({ name: 'n'.repeat(101), email: validEmail() })), status: 400, field: 'name' },
  { label: 'a name of 101 emoji', send: object(() => ({ name: '😀'.repeat(101), email: validEmail() })), status: 400, field: 'name' },
  { label: 'a name containing NUL', send: object(() => ({ name: 'nul\u0000name', email: validEmail() })), status: 400, field: 'name' },
  { label: 'a name containing a control character (BEL)', send: object(() => ({ name: 'bell\u0007name', email: validEmail() })), status: 400, field: 'name' },
  {
    label: 'a name with a lone surrogate (raw \\ud800 escape)',
    send: (req) => json(`{"name":"lone\\ud800surrogate","email":${JSON.stringify(validEmail())}}`)(req),
    status: 400,
    field: 'name',
  },
  { label: 'a name that is not a string', send: object(() => ({ name: 42, email: validEmail() })), status: 400, field: 'name' },
  { label: 'no name', send: object(() => ({ email: validEmail() })), status: 400, field: 'name' },
  { label: 'an invalid email', send: object(() => ({ name: unique('name'), email: 'not-an-email' })), status: 400, field: 'email' },
  { label: 'an email of 255 characters', send: object(() => ({ name: unique('name'), email: emailOf255Chars() })), status: 400, field: 'email' },
  { label: 'no email', send: object(() => ({ name: unique('name') })), status: 400, field: 'email' },
  { label: 'an unknown field', send: object(() => ({ name: unique('name'), email: validEmail(), nickname: 'x' })), status: 400, field: 'nickname' },
  {
    label: 'a duplicate key',
    send: (req) => json(`{"name":${JSON.stringify(unique('first'))},"name":${JSON.stringify(unique('second'))},"email":${JSON.stringify(validEmail())}}`)(req),
    status: 400,
    field: 'name',
  },
  { label: 'an array body', send: object(() => [{ name: unique('name'), email: validEmail() }]), status: 400, field: 'body' },
  { label: 'a JSON string body', send: json('"just a string"'), status: 400, field: 'body' },
  { label: 'a JSON null body', send: json('null'), status: 400, field: 'body' },
  { label: 'malformed JSON', send: (req) => json(`{"name":${JSON.stringify(unique('name'))},`)(req), status: 400, field: 'body' },
  {
    label: 'content type text/plain',
    send: (req) => req.set('Content-Type', 'text/plain').send(JSON.stringify({ name: unique('name'), email: validEmail() })),
    status: 415,
    field: 'content-type',
  },
  {
    label: 'a body over 16 KB',
    send: object(() => ({ name: unique('name'), email: validEmail(), padding: 'p'.repeat(17 * 1024) })),
    status: 413,
    field: 'body',
  },
];

const badIds = [
  { label: 'a non-numeric id', id: 'abc' },
  { label: 'a negative id', id: '-1' },
  { label: 'id 0', id: '0' },
  { label: 'a huge id', id: '99999999999999999999' },
  { label: 'an id just over the largest safe integer', id: '9007199254740992' },
];

/** The one error shape, naming the field, with nothing internal in it. */
function expectCleanError(res: request.Response, status: number, field: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toEqual(expect.any(String));
  expect(res.body.error.message.startsWith(`${field}:`), `message ${JSON.stringify(res.body.error.message)} names ${field}`).toBe(true);
  expect(res.text).not.toMatch(/\bat [^\s]+ \(|\n\s+at |node_modules|\.ts:\d+/);
  expect(res.text).not.toMatch(/\b(SELECT|INSERT|UPDATE|DELETE) /);
  expect(res.text).not.toMatch(/SQLITE_|\bER_[A-Z_]+|sequelize/i);
}

describe.each(targets)('bad input on $name', (target) => {
  let database: TestDatabase;
  const apps = new Map<AppVersion, InProcessApp>();
  /** A user that every PUT targets: it must never change. */
  let existingId: number;

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    for (const version of APP_VERSIONS) apps.set(version, await inProcessApp(version, database.db));
    const name = unique('existing');
    existingId = (await request(apps.get('v2')!.app).post('/users').send({ name, email: `${name}@example.test` }).expect(201)).body.id;
  });
  afterAll(async () => {
    for (const app of apps.values()) await app.close();
    await database?.drop();
  });

  /** Sends the request and checks that the users table is, row for row, what it was. */
  const unchangedBy = async (send: () => Test): Promise<request.Response> => {
    const before = await usersTableSnapshot(database.db);
    const res = await send();
    expect(await usersTableSnapshot(database.db)).toBe(before);
    return res;
  };

  describe.each(APP_VERSIONS)('%s', (version) => {
    const app = () => apps.get(version)!.app;

    for (const bad of badBodies) {
      it.skipIf(target.skip)(`When ${version} gets POST /users with ${bad.label}, then ${bad.status} naming ${bad.field} and no row changes`, async () => {
        const res = await unchangedBy(() => bad.send(request(app()).post('/users')));
        expectCleanError(res, bad.status, bad.field);
      });

      it.skipIf(target.skip)(`When ${version} gets PUT /users/:id with ${bad.label}, then ${bad.status} naming ${bad.field} and no row changes`, async () => {
        const res = await unchangedBy(() => bad.send(request(app()).put(`/users/${existingId}`)));
        expectCleanError(res, bad.status, bad.field);
      });
    }

    for (const { label, id } of badIds) {
      it.skipIf(target.skip)(`When ${version} gets PUT with ${label}, then 400 naming id and no row changes`, async () => {
        const name = unique('valid');
        const res = await unchangedBy(() => request(app()).put(`/users/${id}`).send({ name, email: `${name}@example.test` }));
        expectCleanError(res, 400, 'id');
      });

      it.skipIf(target.skip)(`When ${version} gets GET with ${label}, then 400 naming id`, async () => {
        const res = await request(app()).get(`/users/${id}`);
        expectCleanError(res, 400, 'id');
      });
    }

    it.skipIf(target.skip)(`When ${version} gets a valid PUT for an id no user has, then 404 and no row is created`, async () => {
      const name = unique('nobody');
      const unknownId = String(Number.MAX_SAFE_INTEGER);
      const res = await unchangedBy(() => request(app()).put(`/users/${unknownId}`).send({ name, email: `${name}@example.test` }));
      expect(res.status).toBe(404);
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
      expect(res.body.error.message).toContain(unknownId);
    });

    it.skipIf(target.skip)(`When ${version} gets GET for an id no user has, then 404 naming the id`, async () => {
      const unknownId = String(Number.MAX_SAFE_INTEGER - 1);
      const res = await request(app()).get(`/users/${unknownId}`);
      expect(res.status).toBe(404);
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
      expect(res.body.error.message).toContain(unknownId);
    });
  });
});
