// The balancer the demo and the load scenarios put in front of the app instances: nginx when it is
// installed, else the Node proxy with the same routing, failover and keep-alive rules. BALANCER=nginx|node
// selects one; REQUIRE_NGINX=1 turns "nginx is missing" from a one-line notice into an error (CI sets it
// where nginx must be what is measured).
import { findNginx, startNginx } from './nginx.ts';
import type { NginxBalancer } from './nginx.ts';
import { startNodeProxy } from './node-proxy.ts';
import type { NodeProxyBalancer } from './node-proxy.ts';

export { fillTemplate, findNginx, startNginx, TEMPLATE_PATH } from './nginx.ts';
export type { NginxBalancer, NginxTemplateVars, StartNginxOptions } from './nginx.ts';
export { isPublicRoute, startNodeProxy } from './node-proxy.ts';
export type { NodeProxyBalancer, StartNodeProxyOptions } from './node-proxy.ts';

export type BalancerKind = 'nginx' | 'node';
export type Balancer = NginxBalancer | NodeProxyBalancer;

export interface StartBalancerOptions {
  /** Wins over BALANCER; default nginx. */
  kind?: BalancerKind;
  /** One per slot, "host:port"; a slot may have nothing listening yet. */
  upstreams: string[];
  /** 0 (the default) picks a free port. */
  listenPort?: number;
  listenHost?: string;
  /** nginx only: its prefix dir (a temp dir when omitted). */
  dir?: string;
  /** Where BALANCER and REQUIRE_NGINX are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default findNginx(); null means "not installed". */
  nginxPath?: string | null;
  /** Where the one-line fallback notice goes; default console.warn. */
  log?: (line: string) => void;
}

function kindFromEnv(value: string | undefined): BalancerKind | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'nginx' || value === 'node') return value;
  throw new Error(`BALANCER=${value} is not a balancer: use BALANCER=nginx or BALANCER=node`);
}

export async function startBalancer(options: StartBalancerOptions): Promise<Balancer> {
  const { env = process.env, log = (line: string) => console.warn(line), upstreams, listenPort, listenHost, dir } = options;
  const kind = options.kind ?? kindFromEnv(env.BALANCER) ?? 'nginx';
  if (kind === 'node') return startNodeProxy({ upstreams, listenPort, listenHost });
  const nginxPath = options.nginxPath === undefined ? findNginx() : options.nginxPath;
  if (nginxPath === null) {
    if (env.REQUIRE_NGINX === '1') {
      throw new Error('REQUIRE_NGINX=1 but nginx was not found on PATH or at /usr/sbin/nginx: install it (apt-get install nginx-light) or unset REQUIRE_NGINX to use the Node proxy');
    }
    log('balancer: nginx not found (PATH, /usr/sbin/nginx), using the Node proxy instead; set REQUIRE_NGINX=1 to make this an error');
    return startNodeProxy({ upstreams, listenPort, listenHost });
  }
  return startNginx({ upstreams, listenPort, listenHost, dir, nginxPath });
}
