// The keep-alive timeout ordering the zero-failure drain depends on: the balancer closes an idle upstream
// connection (2 s) before the app's Node server would (keepAliveTimeout 5 s), and both before the app's
// drain deadline (10 s). Checked on the template's text, on the Node proxy's constants, and in behaviour.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_PATH } from '../../load/infra/balancer/nginx.ts';
import { FAIL_TIMEOUT_MS, UPSTREAM_KEEP_ALIVE_TIMEOUT_MS } from '../../load/infra/balancer/node-proxy.ts';
import { waitFor } from '../../load/infra/instance-process.ts';
import { balancerVariants, deferredCleanup, send, startUpstream, variantTitle } from './support.ts';

// The app side of the ordering. The core config (shared/config.ts) defines these; they are repeated here
// until the test imports them from there.
const APP_KEEP_ALIVE_TIMEOUT_MS = 5000;
const DRAIN_DEADLINE_MS = 10000;

/** nginx time ("2s", "500ms", "1m", bare seconds) in milliseconds. */
function nginxTimeMs(value: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value);
  if (!match) throw new Error(`not an nginx time: ${value}`);
  const unit = match[2] ?? 's';
  return Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

/** The directives of the template's `upstream` block, comments removed, as rendered without a resolver (the local demo's rendering: {{RESOLVE}} is empty). */
function upstreamBlock(): string {
  const template = readFileSync(TEMPLATE_PATH, 'utf8').replace(/#.*$/gm, '').replaceAll('{{RESOLVE}}', '');
  const block = /^\s*upstream\s+\w+\s*\{([\s\S]*?)^\s*\}/m.exec(template);
  if (!block) throw new Error(`no upstream block in ${TEMPLATE_PATH}`);
  return block[1]!;
}

describe('keep-alive timeout ordering', () => {
  it('When the template is parsed, then upstream keepalive_timeout < the app keep-alive timeout < the drain deadline', () => {
    const match = /^\s*keepalive_timeout\s+(\S+);/m.exec(upstreamBlock());
    expect(match, 'the upstream block must set keepalive_timeout (nginx defaults to 60 s)').not.toBeNull();
    const upstreamKeepAliveMs = nginxTimeMs(match![1]!);

    expect(upstreamKeepAliveMs).toBe(2000);
    expect(upstreamKeepAliveMs).toBeLessThan(APP_KEEP_ALIVE_TIMEOUT_MS);
    expect(APP_KEEP_ALIVE_TIMEOUT_MS).toBeLessThan(DRAIN_DEADLINE_MS);
  });

  it('When the Node proxy is compared with the template, then it uses the same keep-alive timeout and fail_timeout', () => {
    const block = upstreamBlock();
    const keepAlive = /^\s*keepalive_timeout\s+(\S+);/m.exec(block);
    const failTimeouts = [...block.matchAll(/fail_timeout=(\S+?);?\s/g)].map((m) => nginxTimeMs(m[1]!));

    expect(UPSTREAM_KEEP_ALIVE_TIMEOUT_MS).toBe(nginxTimeMs(keepAlive![1]!));
    expect(failTimeouts).toEqual([FAIL_TIMEOUT_MS]);
  });
});

describe.each(balancerVariants)('$kind balancer: upstream keep-alive', (variant) => {
  describe.skipIf(variant.skipReason !== undefined)(variantTitle(variant, 'through real HTTP to a real upstream server'), () => {
    const defer = deferredCleanup();

    it('When requests come one after another, then they reuse one upstream connection, which the balancer closes once idle, before the app would', async () => {
      // The upstream would keep an idle connection for a minute: any close within 5 s is the balancer's.
      const upstream = await startUpstream('a', { keepAliveTimeoutMs: 60_000 });
      defer(upstream.close);
      const balancer = await variant.start([upstream.address]);
      defer(balancer.stop);

      for (let i = 0; i < 3; i++) expect((await send(balancer.url, { path: `/users/${i}` })).status).toBe(200);
      const lastAnswerAt = Date.now();

      expect(upstream.connections).toHaveLength(1);
      await waitFor(() => upstream.connections[0]!.closedAt, { timeoutMs: APP_KEEP_ALIVE_TIMEOUT_MS, what: 'the balancer to close its idle upstream connection' });
      const idleMs = upstream.connections[0]!.closedAt! - lastAnswerAt;
      expect(idleMs).toBeGreaterThanOrEqual(UPSTREAM_KEEP_ALIVE_TIMEOUT_MS - 500);
      expect(idleMs).toBeLessThan(APP_KEEP_ALIVE_TIMEOUT_MS);
    });
  });
});
