// nginx.ts: rendering the one template (which the demo fills with loopback ports and compose tooling with
// service names), and running nginx from a private prefix dir.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillTemplate, startNginx } from '../../load/infra/balancer/nginx.ts';
import { balancerVariants, deferredCleanup, emptySlot, send, startUpstream, variantTitle } from './support.ts';

describe('fillTemplate', () => {
  it('When filled with service names, then there is one server line per slot with passive failover and no placeholder is left', () => {
    const conf = fillTemplate({ listenPort: 80, listenHost: '0.0.0.0', upstreams: ['app-v1-a:3000', 'app-v1-b:3000', 'app-v2-a:3000', 'app-v2-b:3000'], runDir: '/tmp/nginx' });

    const servers = conf.split('\n').filter((line) => /^\s*server\s+[^{\s]/.test(line));
    expect(servers.map((line) => line.trim())).toEqual([
      'server app-v1-a:3000 max_fails=1 fail_timeout=2s;',
      'server app-v1-b:3000 max_fails=1 fail_timeout=2s;',
      'server app-v2-a:3000 max_fails=1 fail_timeout=2s;',
      'server app-v2-b:3000 max_fails=1 fail_timeout=2s;',
    ]);
    expect(conf).toContain('listen 0.0.0.0:80;');
    expect(conf).toContain('pid /tmp/nginx/nginx.pid;');
    const directives = conf.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    expect(directives.join('\n')).not.toMatch(/\{\{/);
  });

  it('When filled for another mapping\'s route, then that route and its sub-paths are proxied and /users is not (the template names no route of its own)', () => {
    const conf = fillTemplate({ listenPort: 8080, upstreams: ['127.0.0.1:4001'], runDir: '/tmp/nginx', route: '/members' });
    const directives = conf.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');

    expect(directives).toContain('location = /members {');
    expect(directives).toContain('location /members/ {');
    expect(directives).not.toContain('/users');
    expect(fillTemplate({ listenPort: 8080, upstreams: ['127.0.0.1:4001'], runDir: '/tmp/nginx' })).toContain('location = /users {');
  });

  it.each([
    ['a route with a directive smuggled in', { route: '/users { return 200; } location /x' }, /one path segment/],
    ['no upstream', { upstreams: [] }, /at least one upstream/],
    ['an upstream with a directive smuggled in', { upstreams: ['127.0.0.1:1; include /etc/passwd'] }, /not "host:port"/],
    ['a relative run dir', { runDir: 'tmp/nginx' }, /absolute path/],
    ['port 0', { listenPort: 0 }, /not a port/],
  ])('When given %s, then it refuses with a reason', (_what, override, reason) => {
    const vars = { listenPort: 8080, upstreams: ['127.0.0.1:4001'], runDir: '/tmp/nginx', ...override };
    expect(() => fillTemplate(vars)).toThrow(reason);
  });
});

const nginxVariant = balancerVariants.find((variant) => variant.kind === 'nginx')!;

describe.skipIf(nginxVariant.skipReason !== undefined)(variantTitle(nginxVariant, 'startNginx'), () => {
  const defer = deferredCleanup();

  it('When nginx -t rejects the rendered config, then startNginx throws with nginx\'s own message', async () => {
    await expect(startNginx({ upstreams: ['127.0.0.1:99999'] })).rejects.toThrow(/nginx -t rejected[\s\S]*invalid port/);
  });

  it('When started in a given dir, then config, pid and logs live there, and stop() ends nginx and keeps the dir', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'balancer-nginx-test-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const upstream = await startUpstream('a');
    defer(upstream.close);

    const balancer = await startNginx({ upstreams: [upstream.address], dir });
    defer(balancer.stop);
    expect((await send(balancer.url, { path: '/users/1' })).status).toBe(200);
    expect((await send(balancer.url, { path: '/nowhere' })).status).toBe(404);
    expect(balancer.confPath).toBe(path.join(dir, 'nginx.conf'));
    expect(Number(readFileSync(path.join(dir, 'nginx.pid'), 'utf8'))).toBe(balancer.pid);
    await balancer.stop();

    expect(() => process.kill(balancer.pid, 0)).toThrow();
    // access_log is buffered: stop() (nginx -s quit) flushes it. A first-try 2xx is not logged (the cost of a
    // line per request), what nginx answered itself is.
    const accessLog = readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8');
    expect(accessLog).toContain(`"GET /nowhere HTTP/1.1" 404`);
    expect(accessLog).not.toContain(`"GET /users/1 HTTP/1.1" 200`);
    expect(existsSync(path.join(dir, 'logs', 'error.log'))).toBe(true);
  });

  it('When a request is passed over an empty slot, then the access log keeps it with both statuses, and a first-try 200 is not logged', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'balancer-nginx-test-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const upstream = await startUpstream('a');
    defer(upstream.close);
    const empty = await emptySlot();

    const balancer = await startNginx({ upstreams: [empty, upstream.address], dir });
    defer(balancer.stop);
    const replies = [await send(balancer.url, { path: '/users/7' }), await send(balancer.url, { path: '/users/7' })];
    await balancer.stop();

    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    const accessLog = readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8').trim().split('\n');
    // Round robin starts at the first slot: the first request was refused there and passed over; the second
    // went to the live slot first (the empty one is out for fail_timeout) and is not logged.
    expect(accessLog).toHaveLength(1);
    expect(accessLog[0]).toContain(`upstream="${empty}, ${upstream.address}" upstream_status="502, 200"`);
  });

  it('When started without a dir, then stop() removes the temp prefix dir it made', async () => {
    const upstream = await startUpstream('a');
    defer(upstream.close);

    const balancer = await startNginx({ upstreams: [upstream.address] });
    defer(balancer.stop);
    expect(existsSync(balancer.dir)).toBe(true);
    await balancer.stop();

    expect(existsSync(balancer.dir)).toBe(false);
  });
});
