// startBalancer: which balancer runs. BALANCER=nginx|node only selects; a missing nginx is a one-line notice
// and the Node proxy, or an error under REQUIRE_NGINX=1.
import { describe, expect, it } from 'vitest';
import { startBalancer } from '../../load/infra/balancer/index.ts';
import { balancerVariants, deferredCleanup, send, startUpstream, variantTitle } from './support.ts';

describe('startBalancer', () => {
  const defer = deferredCleanup();

  async function upstream() {
    const server = await startUpstream('a');
    defer(server.close);
    return server;
  }

  it('When BALANCER=node, then the Node proxy serves, without any notice', async () => {
    const { address } = await upstream();
    const lines: string[] = [];

    const balancer = await startBalancer({ upstreams: [address], env: { BALANCER: 'node' }, log: (line) => lines.push(line) });
    defer(balancer.stop);

    expect(balancer.kind).toBe('node');
    expect((await send(balancer.url, { path: '/users/1' })).headers['x-instance-id']).toBe('a');
    expect(lines).toEqual([]);
  });

  it('When nginx is not installed, then the Node proxy serves and exactly one line says so', async () => {
    const { address } = await upstream();
    const lines: string[] = [];

    const balancer = await startBalancer({ upstreams: [address], env: {}, nginxPath: null, log: (line) => lines.push(line) });
    defer(balancer.stop);

    expect(balancer.kind).toBe('node');
    expect((await send(balancer.url, { path: '/healthz' })).status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/nginx not found.*Node proxy/);
  });

  it('When nginx is not installed and REQUIRE_NGINX=1, then it refuses with a reason', async () => {
    const { address } = await upstream();

    await expect(startBalancer({ upstreams: [address], env: { REQUIRE_NGINX: '1' }, nginxPath: null, log: () => {} })).rejects.toThrow(/REQUIRE_NGINX=1 but nginx was not found/);
  });

  it('When BALANCER names no balancer, then it refuses with a reason', async () => {
    const { address } = await upstream();

    await expect(startBalancer({ upstreams: [address], env: { BALANCER: 'haproxy' } })).rejects.toThrow(/BALANCER=haproxy is not a balancer/);
  });

  const nginxVariant = balancerVariants.find((variant) => variant.kind === 'nginx')!;
  it.skipIf(nginxVariant.skipReason !== undefined)(variantTitle(nginxVariant, 'When nothing is selected and nginx is installed, then nginx serves'), async () => {
    const { address } = await upstream();

    const balancer = await startBalancer({ upstreams: [address], env: {} });
    defer(balancer.stop);

    expect(balancer.kind).toBe('nginx');
    expect((await send(balancer.url, { path: '/users/1' })).headers['x-upstream-addr']).toBe(address);
  });
});
