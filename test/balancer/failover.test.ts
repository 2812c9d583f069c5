// The balancer's failover, which is what lets the rollout add and remove instances without a reload:
// an empty slot is passed over for every method; a request that reached an instance is re-sent only when
// it is idempotent. The same tests run against nginx and the Node proxy.
import { describe, expect, it } from 'vitest';
import { balancerVariants, deferredCleanup, emptySlot, send, startUpstream, variantTitle } from './support.ts';

describe.each(balancerVariants)('$kind balancer: failover', (variant) => {
  describe.skipIf(variant.skipReason !== undefined)(variantTitle(variant, 'through real HTTP to real upstream servers'), () => {
    const defer = deferredCleanup();

    it.each(['GET', 'PUT', 'POST'])('When one of three slots has nothing listening, then every %s succeeds on a live slot with its body intact', async (method) => {
      const a = await startUpstream('a');
      defer(a.close);
      const b = await startUpstream('b');
      defer(b.close);
      const empty = await emptySlot();
      const balancer = await variant.start([a.address, empty, b.address]);
      defer(balancer.stop);

      const replies = [];
      for (let i = 0; i < 12; i++) {
        const body = method === 'GET' ? undefined : JSON.stringify({ name: `user-${method}-${i}` });
        replies.push({ sent: body ?? '', reply: await send(balancer.url, { method, path: `/users/${i}`, body }) });
      }
      replies.push(
        ...(await Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            const body = method === 'GET' ? undefined : JSON.stringify({ name: `user-${method}-concurrent-${i}` });
            return { sent: body ?? '', reply: await send(balancer.url, { method, path: `/users/c${i}`, body }) };
          }),
        )),
      );

      expect(replies.filter(({ reply }) => reply.status !== 200)).toEqual([]);
      for (const { sent, reply } of replies) expect(reply.json().body).toBe(sent);
      // The empty slot was really in the rotation: at least one request was passed over from it.
      expect(replies.some(({ reply }) => String(reply.headers['x-upstream-addr']).startsWith(`${empty}, `))).toBe(true);
      // Each request reached exactly one instance, with the client named once, however many slots were tried.
      expect(a.requests.length + b.requests.length).toBe(replies.length);
      expect(new Set([...a.requests, ...b.requests].map((request) => request.headers['x-forwarded-for']))).toEqual(new Set(['127.0.0.1']));
    });

    it('When an instance drops a POST it received, then the POST is not re-sent and the client gets a 502', async () => {
      const dropping = await startUpstream('dropping', { behaviour: 'reset' });
      defer(dropping.close);
      const healthy = await startUpstream('healthy');
      defer(healthy.close);
      const balancer = await variant.start([dropping.address, healthy.address]);
      defer(balancer.stop);

      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await send(balancer.url, { method: 'POST', path: '/users', body: JSON.stringify({ name: `post-${i}` }) }));

      const dropped = dropping.requests.map((request) => request.body);
      expect(dropped).toHaveLength(1);
      expect(replies.filter((reply) => reply.status === 502)).toHaveLength(1);
      expect(replies.find((reply) => reply.status === 502)!.json()).toMatchObject({ error: { code: 'bad_gateway' } });
      expect(healthy.requests.map((request) => request.body)).not.toContain(dropped[0]);
      expect(healthy.requests).toHaveLength(3);
    });

    it.each(['GET', 'PUT'])('When an instance drops a %s it received, then the request is re-sent to the next slot and succeeds', async (method) => {
      const dropping = await startUpstream('dropping', { behaviour: 'reset' });
      defer(dropping.close);
      const healthy = await startUpstream('healthy');
      defer(healthy.close);
      const balancer = await variant.start([dropping.address, healthy.address]);
      defer(balancer.stop);

      const replies = [];
      for (let i = 0; i < 4; i++) {
        const body = method === 'GET' ? undefined : JSON.stringify({ name: `${method}-${i}` });
        replies.push(await send(balancer.url, { method, path: '/users/1', body }));
      }

      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
      expect(dropping.requests).toHaveLength(1);
      expect(healthy.requests).toHaveLength(4);
      expect(healthy.requests.map((request) => request.body)).toContain(dropping.requests[0]!.body);
    });

    // An app answers 503 only when the database every slot shares is down: the next slot cannot do better, and
    // failing the slot would turn the apps' clean 503s into 502s for fail_timeout (load/chaos/db-restart.ts).
    it('When an instance answers 503, then GET and POST both get the 503 as it is, and the slot stays in the rotation', async () => {
      const unavailable = await startUpstream('unavailable', { behaviour: { status: 503 } });
      defer(unavailable.close);
      const healthy = await startUpstream('healthy');
      defer(healthy.close);

      const getBalancer = await variant.start([unavailable.address, healthy.address]);
      defer(getBalancer.stop);
      const gets = [];
      for (let i = 0; i < 4; i++) gets.push(await send(getBalancer.url, { path: '/users/1' }));
      expect(gets.map((reply) => reply.status).sort()).toEqual([200, 200, 503, 503]);
      expect(unavailable.requests).toHaveLength(2);

      const postBalancer = await variant.start([unavailable.address, healthy.address]);
      defer(postBalancer.stop);
      const posts = [];
      for (let i = 0; i < 2; i++) posts.push(await send(postBalancer.url, { method: 'POST', path: '/users', body: '{}' }));
      expect(posts.map((reply) => reply.status).sort()).toEqual([200, 503]);
      expect(posts.find((reply) => reply.status === 503)!.headers['x-instance-id']).toBe('unavailable');
    });

    it('When no slot has anything listening, then the balancer answers 502 in the apps\' error shape', async () => {
      const balancer = await variant.start([await emptySlot(), await emptySlot()]);
      defer(balancer.stop);

      const reply = await send(balancer.url, { method: 'POST', path: '/users', body: '{}' });

      expect(reply.status).toBe(502);
      expect(reply.json()).toMatchObject({ error: { code: 'bad_gateway', details: null } });
    });
  });
});
