// What every answer of both versions carries and hides: the standard security headers (helmet) on every kind
// of answer (2xx, 4xx, 413, 415, 500), no X-Powered-By; and a real SQL failure (the table gone) becomes a
// bare 500 internal_error with no SQL text, no driver error and no stack trace (those go to the log only).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSIONS } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import { errorShapeProblem, serve } from '../fuzz/client.ts';
import type { Answer, Served } from '../fuzz/client.ts';
import { mysqlTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';

const mysql = await mysqlTarget();

const SECURITY_HEADERS: Record<string, RegExp> = {
  'content-security-policy': /default-src 'self'/,
  'strict-transport-security': /max-age=\d+/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^SAMEORIGIN$/,
  'referrer-policy': /^no-referrer$/,
  'cross-origin-opener-policy': /^same-origin$/,
  'cross-origin-resource-policy': /^same-origin$/,
  'x-dns-prefetch-control': /^off$/,
};

function expectSecurityHeaders(answer: Answer, what: string): void {
  for (const [header, shape] of Object.entries(SECURITY_HEADERS)) expect(String(answer.headers[header]), `${what}: ${header}`).toMatch(shape);
  expect(answer.headers['x-powered-by'], `${what}: x-powered-by`).toBeUndefined();
}

describe.skipIf(mysql.skip)('answers carry security headers and leak nothing (mysql)', () => {
  let database: TestDatabase;
  const servers = new Map<AppVersion, { app: InProcessApp; served: Served }>();

  beforeAll(async () => {
    database = await mysql.create();
    for (const version of APP_VERSIONS) {
      const app = await inProcessApp(version, database.db);
      servers.set(version, { app, served: await serve(app.app) });
    }
  });
  afterAll(async () => {
    for (const { app, served } of servers.values()) {
      await served.close();
      await app.close();
    }
    await database?.drop();
  });

  const json = (body: object) => ({ headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });

  describe.each(APP_VERSIONS)('%s', (version) => {
    const request = (method: string, path: string, options?: { headers?: Record<string, string>; body?: Buffer }) => servers.get(version)!.served.request(method, path, options);

    it(`When ${version} answers 201, 200, 400, 404, 413, 415 and /healthz, then each carries the security headers and no X-Powered-By`, async () => {
      const email = `headers.${randomBytes(4).toString('hex')}@example.test`;
      const created = await request('POST', '/users', json({ name: 'Header Check', email }));
      const id = (JSON.parse(created.text) as { id: number }).id;
      const answers: [string, Answer][] = [
        ['201', created],
        ['200', await request('GET', `/users/${id}`)],
        ['400', await request('PUT', `/users/${id}`, json({ name: '', email }))],
        ['404', await request('GET', '/nowhere')],
        ['413', await request('POST', '/users', json({ name: 'n'.repeat(17 * 1024), email }))],
        ['415', await request('POST', '/users', { headers: { 'content-type': 'text/plain' }, body: Buffer.from('x') })],
        ['healthz', await request('GET', '/healthz')],
      ];

      expect(answers.map(([, answer]) => answer.status)).toEqual([201, 200, 400, 404, 413, 415, 200]);
      for (const [what, answer] of answers) expectSecurityHeaders(answer, what);
    });
  });

  it('When the users table is gone under both versions (a real SQL error), then every answer is a bare 500 internal_error with the security headers and no SQL, driver error or stack trace', async () => {
    const created = await servers.get('v2')!.served.request('POST', '/users', json({ name: 'Before The Fall', email: `fall.${randomBytes(4).toString('hex')}@example.test` }));
    const id = (JSON.parse(created.text) as { id: number }).id;
    await database.db.run('RENAME TABLE users TO users_hidden_by_test');
    try {
      for (const version of APP_VERSIONS) {
        const { served } = servers.get(version)!;
        const answers = [
          await served.request('GET', `/users/${id}`),
          await served.request('PUT', `/users/${id}`, json({ name: 'After', email: 'after@example.test' })),
          await served.request('POST', '/users', json({ name: 'After', email: 'after@example.test' })),
        ];
        for (const answer of answers) {
          expect(answer.status, `${version}: ${answer.text}`).toBe(500);
          expect(JSON.parse(answer.text)).toEqual({ error: { code: 'internal_error', message: 'internal error', details: null } });
          expect(errorShapeProblem(answer)).toBeNull();
          expect(answer.text).not.toMatch(/users_hidden|users|ER_|SELECT|INSERT|UPDATE|exist/i);
          expectSecurityHeaders(answer, `${version} 500`);
        }
      }
    } finally {
      await database.db.run('RENAME TABLE users_hidden_by_test TO users');
    }
  });
});
