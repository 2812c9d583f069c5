// The balancer's routing: round-robin over the slots, only the public routes proxied, the apps' headers
// passed through. The same tests run against nginx and the Node proxy.
import { describe, expect, it } from 'vitest';
import { balancerVariants, deferredCleanup, PATH_TRICKS, send, startUpstream, variantTitle } from './support.ts';

describe.each(balancerVariants)('$kind balancer: routing', (variant) => {
  describe.skipIf(variant.skipReason !== undefined)(variantTitle(variant, 'through real HTTP to real upstream servers'), () => {
    const defer = deferredCleanup();

    async function arrange() {
      const a = await startUpstream('a');
      defer(a.close);
      const b = await startUpstream('b');
      defer(b.close);
      const balancer = await variant.start([a.address, b.address]);
      defer(balancer.stop);
      return { a, b, balancer };
    }

    it('When ten GETs go through a balancer over two upstreams, then they alternate between the two', async () => {
      const { a, b, balancer } = await arrange();

      const servedBy: string[] = [];
      for (let i = 0; i < 10; i++) {
        const reply = await send(balancer.url, { path: `/users/${i}` });
        expect(reply.status).toBe(200);
        servedBy.push(String(reply.headers['x-instance-id']));
      }

      expect(a.requests).toHaveLength(5);
      expect(b.requests).toHaveLength(5);
      for (let i = 1; i < servedBy.length; i++) expect(servedBy[i]).not.toBe(servedBy[i - 1]);
    });

    it('When /users, /users/1 and /healthz are requested, then they reach an upstream unchanged', async () => {
      const { a, b, balancer } = await arrange();

      const paths = ['/users', '/users/1', '/users/1?fields=name', '/healthz'];
      const replies = [];
      for (const path of paths) replies.push(await send(balancer.url, { path }));

      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
      expect(replies.map((reply) => reply.json().url)).toEqual(paths);
      expect([...a.requests, ...b.requests].map((request) => request.url).sort()).toEqual([...paths].sort());
    });

    it('When /admin/flags, /metrics or other non-public paths are requested, then the balancer answers 404 itself', async () => {
      const { a, b, balancer } = await arrange();

      const paths = ['/admin/flags', '/metrics', '/', '/usersx', '/admin;/flags', '/%61dmin/flags', '/healthz/extra'];
      const replies = [];
      for (const path of paths) replies.push(await send(balancer.url, { path }));

      for (const reply of replies) {
        expect(reply.status).toBe(404);
        expect(reply.json()).toEqual({ error: { code: 'route_not_found', message: 'not a public route', details: null } });
      }
      expect(a.requests).toEqual([]);
      expect(b.requests).toEqual([]);
    });

    it('When a path with dot segments or encoded slashes or dots is sent (it may normalize into a public route), then the balancer answers 400 itself and no upstream sees it', async () => {
      const { a, b, balancer } = await arrange();

      const replies = [];
      for (const path of PATH_TRICKS) for (const method of ['GET', 'PUT']) replies.push({ path, method, reply: await send(balancer.url, { method, path, ...(method === 'PUT' ? { body: '{}' } : {}) }) });

      for (const { path, method, reply } of replies) {
        expect({ path, method, status: reply.status, body: reply.json() }).toEqual({ path, method, status: 400, body: { error: { code: 'invalid_path', message: 'dot segments, empty segments and encoded slashes or dots are not accepted', details: null } } });
        expect(reply.headers['x-app-version'], path).toBeUndefined();
      }
      expect([...a.requests, ...b.requests].map((request) => request.url)).toEqual([]);
    });

    it("When an upstream answers, then its X-App-Version, X-Instance-Id and X-Read-Source pass through and X-Upstream-Addr names it", async () => {
      const { a, b, balancer } = await arrange();

      const reply = await send(balancer.url, { path: '/users/7' });

      const served = reply.headers['x-instance-id'] === 'a' ? a : b;
      expect(reply.headers['x-app-version']).toBe(`v-${served.name}`);
      expect(reply.headers['x-read-source']).toBe('primary');
      expect(reply.headers['x-upstream-addr']).toBe(served.address);
      expect(reply.json()).toMatchObject({ instance: served.name, url: '/users/7' });
    });
  });
});
