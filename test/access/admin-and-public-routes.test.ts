// Access, end to end, on real instance processes (started as `npm run start:vN` starts them) and the real
// nginx the project ships (load/infra/balancer/nginx.conf.template):
// - the admin API wants `Authorization: Bearer <ADMIN_TOKEN>`: missing 401, wrong 403 (whatever its length),
//   right 200; without ADMIN_TOKEN it does not exist (404), never open; a short ADMIN_TOKEN stops the start;
// - through nginx's public port only /users* and /healthz reach an instance: /admin and /metrics do not, even
//   with the right token and with path tricks, while the same requests straight to the instance do.
// test/shared/http/admin.test.ts covers the admin API's flag validation in-process.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBalancer } from '../../load/infra/balancer/index.ts';
import type { Balancer } from '../../load/infra/balancer/index.ts';
import { PATH_TRICKS, send } from '../balancer/support.ts';
import type { Reply } from '../balancer/support.ts';
import { mysqlTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { startInstanceProcess } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { runScript } from '../support/scripts.ts';

const mysql = await mysqlTarget();
const ADMIN_TOKEN = randomBytes(24).toString('base64url');

/** One request with headers, on its own connection, path sent as given. */
function call(baseUrl: string, { method = 'GET', path: target = '/', headers = {}, body }: { method?: string; path?: string; headers?: Record<string, string>; body?: object }): Promise<Reply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    import('node:http').then(({ default: http }) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method, path: target, agent: false, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    }, reject);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.skipIf(mysql.skip)('access on real processes and real nginx (mysql)', () => {
  let database: TestDatabase;
  const withToken = new Map<string, InstanceProcess>();
  const withoutToken = new Map<string, InstanceProcess>();
  let balancer: Balancer;
  let nodeBalancer: Balancer;

  beforeAll(async () => {
    database = await mysql.create();
    const env = { DATABASE_URL: database.url };
    const started = await Promise.all([
      startInstanceProcess('v1', { ...env, ADMIN_TOKEN }),
      startInstanceProcess('v2', { ...env, ADMIN_TOKEN }),
      startInstanceProcess('v1', env),
      startInstanceProcess('v2', env),
    ]);
    withToken.set('v1', started[0]).set('v2', started[1]);
    withoutToken.set('v1', started[2]).set('v2', started[3]);
    // The balancer over the instances that HAVE the admin API: if nginx let /admin through, it would answer.
    balancer = await startBalancer({ kind: 'nginx', upstreams: [...withToken.values()].map((i) => `127.0.0.1:${i.port}`), log: () => {} });
    nodeBalancer = await startBalancer({ kind: 'node', upstreams: [...withToken.values()].map((i) => `127.0.0.1:${i.port}`) });
  }, 60_000);
  afterAll(async () => {
    await balancer?.stop();
    await nodeBalancer?.stop();
    await Promise.all([...withToken.values(), ...withoutToken.values()].map((i) => i.stop('SIGTERM')));
    await database?.drop();
  });

  describe.each(['v1', 'v2'])('%s admin API', (version) => {
    const url = () => withToken.get(version)!.url;

    it(`When ${version} gets GET /admin/flags with the right bearer token, then 200 with the stored flag set`, async () => {
      const stored = await storedFlagSet(database.db);

      const reply = await call(url(), { path: '/admin/flags', headers: bearer(ADMIN_TOKEN) });

      expect(reply.status).toBe(200);
      expect(reply.json()).toMatchObject({ version: stored!.version, flags: stored!.values });
    });

    it(`When ${version} gets PUT /admin/flags with the right token, then the database holds the change under a new version`, async () => {
      const before = (await storedFlagSet(database.db))!;
      const next = !before.values['backfill-pause'];

      const reply = await call(url(), { method: 'PUT', path: '/admin/flags', headers: bearer(ADMIN_TOKEN), body: { 'backfill-pause': next } });

      expect(reply.status, reply.text).toBe(200);
      expect(await storedFlagSet(database.db)).toEqual({ version: before.version + 1, values: { ...before.values, 'backfill-pause': next } });
    });

    const refusals: { label: string; headers: Record<string, string>; status: number }[] = [
      { label: 'no Authorization header', headers: {}, status: 401 },
      { label: 'a Basic scheme', headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }, status: 401 },
      { label: 'a lower-case "bearer" and the right token', headers: { authorization: `bearer ${ADMIN_TOKEN}` }, status: 401 },
      { label: 'an empty token', headers: { authorization: 'Bearer ' }, status: 401 },
      { label: 'the token with its last character changed', headers: bearer(`${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('A') ? 'B' : 'A'}`), status: 403 },
      { label: 'a prefix of the token', headers: bearer(ADMIN_TOKEN.slice(0, 8)), status: 403 },
      { label: 'the token with a suffix', headers: bearer(`${ADMIN_TOKEN}x`), status: 403 },
      { label: 'a 2000-character token', headers: bearer('t'.repeat(2000)), status: 403 },
      // (A trailing space is not part of a header value in HTTP: the parser strips it, so it is no test.)
      { label: 'the token followed by a second word', headers: bearer(`${ADMIN_TOKEN} ${ADMIN_TOKEN}`), status: 403 },
    ];
    for (const { label, headers, status } of refusals) {
      it(`When ${version} gets PUT /admin/flags with ${label}, then ${status} in the error shape and no flag changes`, async () => {
        const before = await storedFlagSet(database.db);

        const reply = await call(url(), { method: 'PUT', path: '/admin/flags', headers, body: { 'backfill-pause': true } });

        expect(reply.status).toBe(status);
        expect(reply.json()).toMatchObject({ error: { code: status === 401 ? 'unauthorized' : 'forbidden', message: expect.stringMatching(/^authorization: /) } });
        expect(await storedFlagSet(database.db)).toEqual(before);
      });
    }

    it(`When ${version} runs without ADMIN_TOKEN, then /admin/flags is 404 for GET and PUT even with a token, and no flag changes`, async () => {
      const before = await storedFlagSet(database.db);
      const off = withoutToken.get(version)!.url;

      const get = await call(off, { path: '/admin/flags', headers: bearer(ADMIN_TOKEN) });
      const put = await call(off, { method: 'PUT', path: '/admin/flags', headers: bearer(ADMIN_TOKEN), body: { 'backfill-pause': true } });

      expect([get.status, put.status]).toEqual([404, 404]);
      expect(put.json()).toMatchObject({ error: { code: 'route_not_found' } });
      expect(await storedFlagSet(database.db)).toEqual(before);
    });
  });

  it('When ADMIN_TOKEN is shorter than 16 characters, then the instance refuses to start with one line naming ADMIN_TOKEN', async () => {
    const result = await runScript('app-v2/server.ts', [], { DATABASE_URL: database.url, PORT: '0', ADMIN_TOKEN: 'short-token' });

    expect(result.code).toBe(1);
    expect(result.lines).toEqual([expect.stringMatching(/^config error: ADMIN_TOKEN must be at least 16 characters/)]);
  });

  it('When the admin token is compared, then it is through fixed-length digests and timingSafeEqual (constant time), never ===', () => {
    const source = readFileSync(path.join(import.meta.dirname, '../../shared/http/admin.ts'), 'utf8');

    expect(source).toMatch(/timingSafeEqual\(digest\(match\[1\]!?\), expected\)/);
    expect(source).toMatch(/createHash\('sha256'\)/);
    expect(source).not.toMatch(/(===|!==|==|!=)\s*(token|expected)\b|\b(token|expected)\s*(===|!==|==|!=)/);
  });

  describe('through the public nginx port', () => {
    it('When /users and /healthz are requested through nginx, then an instance answers (the balancer works)', async () => {
      const created = await call(balancer.url, { method: 'POST', path: '/users', body: { name: 'Access Check', email: `access.${randomBytes(4).toString('hex')}@example.test` } });
      const health = await call(balancer.url, { path: '/healthz' });

      expect(created.status).toBe(201);
      expect(health.status).toBe(200);
      expect(health.headers['x-app-version']).toMatch(/^v[12]$/);
    });

    it('When /admin/flags and /metrics are requested straight at an instance, then they answer (so the 404s below are the balancer\'s doing)', async () => {
      const instance = withToken.get('v2')!.url;

      expect((await call(instance, { path: '/admin/flags', headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
      expect((await call(instance, { path: '/metrics' })).text).toMatch(/^# HELP /m);
    });

    const hidden = [
      '/admin/flags',
      '/admin',
      '/admin/',
      '/metrics',
      '/metrics/',
      '/ADMIN/flags',
      '/Metrics',
      '//admin/flags',
      '/users/../admin/flags',
      '/users/%2e%2e/admin/flags',
      '/users/..%2fadmin/flags',
      '/users/%2E%2E/metrics',
      '/healthz/../metrics',
      '/users/1/../../metrics',
      '/./admin/flags',
      '/admin;/flags',
      '/metrics?x=/users',
      '/%61dmin/flags',
    ];
    for (const target of hidden) {
      for (const method of ['GET', 'PUT']) {
        it(`When ${method} ${target} is sent through nginx with the right token, then no admin handler and no metrics answer`, async () => {
          const before = await storedFlagSet(database.db);

          const reply = await call(balancer.url, { method, path: target, headers: bearer(ADMIN_TOKEN), ...(method === 'PUT' ? { body: { 'backfill-pause': true } } : {}) });

          expect([400, 404]).toContain(reply.status);
          expect(reply.text).not.toMatch(/# HELP|# TYPE|"flags"|"definitions"|unauthorized|forbidden/);
          expect(reply.json()).toMatchObject({ error: { code: expect.stringMatching(/^(route_not_found|invalid_path|invalid_id)$/) } });
          expect(await storedFlagSet(database.db)).toEqual(before);
        });
      }
    }

    // Paths nginx normalizes into a public route while the raw path names /admin or /metrics (NOTES.md: nginx
    // forwarded /admin/../users/1 raw and the app answered 403 "wrong token" through the public port).
    for (const kind of ['nginx', 'node'] as const) {
      for (const target of PATH_TRICKS) {
        it(`When PUT ${target} is sent through the ${kind} balancer with the right token, then the balancer answers 400 itself: no app answer, no 401/403, no flag change`, async () => {
          const before = await storedFlagSet(database.db);

          const reply = await call(kind === 'nginx' ? balancer.url : nodeBalancer.url, { method: 'PUT', path: target, headers: bearer(ADMIN_TOKEN), body: { 'backfill-pause': !before!.values['backfill-pause'] } });

          expect(reply.status).toBe(400);
          expect(reply.headers['x-app-version']).toBeUndefined();
          expect(reply.json()).toMatchObject({ error: { code: 'invalid_path' } });
          expect(await storedFlagSet(database.db)).toEqual(before);
        });
      }
    }

    it('When a public route answers through nginx, then the security headers of the app arrive unchanged and nginx adds no version banner', async () => {
      const reply = await call(balancer.url, { path: '/healthz' });

      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
      expect(reply.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(reply.headers['x-powered-by']).toBeUndefined();
      expect(reply.headers.server).toBe('nginx');
    });
  });
});

// The balancer's choice for an app's 503 (load/infra/balancer/nginx.conf.template: no http_503 in
// proxy_next_upstream), on real nginx with stand-in upstreams whose answer we switch.
describe('nginx and an app answering 503 while the database is down', () => {
  it('When every instance answers 503, then clients get the clean 503 (not 502), and the moment they answer 200 again clients get 200 (no slot was failed)', async () => {
    const http = (await import('node:http')).default;
    let status = 503;
    const servers = await Promise.all(
      [0, 1].map(async () => {
        const server = http.createServer((_req, res) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(status === 503 ? '{"error":{"code":"database_unavailable","message":"database unavailable, retry later","details":null}}' : '{"ok":true}');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    const ports = servers.map((server) => (server.address() as import('node:net').AddressInfo).port);
    const nginx = await startBalancer({ kind: 'nginx', upstreams: ports.map((port) => `127.0.0.1:${port}`), log: () => {} });
    try {
      const during: Reply[] = [];
      for (let i = 0; i < 6; i++) during.push(await send(nginx.url, { path: `/users/${i + 1}` }));
      during.push(await send(nginx.url, { method: 'POST', path: '/users', body: '{}' }));
      status = 200;
      const after = await send(nginx.url, { path: '/users/1' });

      expect(during.map((reply) => reply.status)).toEqual([503, 503, 503, 503, 503, 503, 503]);
      for (const reply of during) expect(reply.json()).toMatchObject({ error: { code: 'database_unavailable' } });
      expect(after.status).toBe(200);
    } finally {
      await nginx.stop();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
