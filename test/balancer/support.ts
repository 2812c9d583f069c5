// Shared by the balancer tests: real upstream servers (small node:http servers on port 0 that answer like
// an app instance, headers included), an empty slot, a raw HTTP client, and the two balancer variants that
// must pass the same behavioural tests.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach } from 'vitest';
import { findNginx, startNginx } from '../../load/infra/balancer/nginx.ts';
import { startNodeProxy } from '../../load/infra/balancer/node-proxy.ts';

export interface SeenRequest {
  method: string;
  url: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface UpstreamConnection {
  openedAt: number;
  closedAt?: number;
}

/** What the upstream does with a request: answer it, answer with a status, or drop the connection unanswered. */
export type UpstreamBehaviour = 'answer' | 'reset' | { status: number };

export interface Upstream {
  name: string;
  address: string;
  requests: SeenRequest[];
  connections: UpstreamConnection[];
  close(): Promise<void>;
}

export async function startUpstream(name: string, { behaviour = 'answer', keepAliveTimeoutMs = 5000 }: { behaviour?: UpstreamBehaviour; keepAliveTimeoutMs?: number } = {}): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const connections: UpstreamConnection[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      if (behaviour === 'reset') {
        req.socket.destroy();
        return;
      }
      const status = behaviour === 'answer' ? 200 : behaviour.status;
      res.writeHead(status, { 'content-type': 'application/json', 'x-app-version': `v-${name}`, 'x-instance-id': name, 'x-read-source': 'primary' });
      res.end(JSON.stringify({ instance: name, method: req.method, url: req.url, body }));
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    const connection: UpstreamConnection = { openedAt: Date.now() };
    connections.push(connection);
    sockets.add(socket);
    socket.on('close', () => {
      connection.closedAt = Date.now();
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    address: `127.0.0.1:${port}`,
    requests,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Whether a TCP connect to 127.0.0.1:port is refused (nothing listening). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const handedOut = new Set<number>();

/**
 * A slot with nothing listening, and nothing that will: a privileged port (below 1024) that refuses connections
 * now. A port that was free a moment ago (port 0, closed again) is not enough when test files run in parallel: the
 * other worker's next listener can be given that very port, and then the "empty" slot answers (seen in CI: every
 * request succeeded, none was passed over). No test binds a privileged port; each call gives a different one.
 */
export async function emptySlot(): Promise<string> {
  for (let port = 1000; port > 0; port--) {
    if (handedOut.has(port) || !(await refused(port))) continue;
    handedOut.add(port);
    return `127.0.0.1:${port}`;
  }
  throw new Error('no privileged port on 127.0.0.1 refuses connections: cannot make an empty slot');
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

/** One request on its own connection; the path is sent exactly as given (no client-side normalization). */
export function send(baseUrl: string, { method = 'GET', path = '/', body }: { method?: string; path?: string; body?: string } = {}): Promise<Reply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Paths that a normalizing balancer matches as a public route (/users..., /healthz) while the raw path names a
 * private one: forwarded as sent, the app routes them to /admin or /metrics (its 401/403 is a token-guessing
 * oracle). A balancer must refuse each of them itself (400 invalid_path), never forward them.
 */
export const PATH_TRICKS = [
  '/admin/../users/1',
  '/admin/flags/../../users/1',
  '/metrics/../healthz',
  '/admin/%2e%2e/users/1',
  '/admin/%2E%2E/healthz',
  '/admin/.%2e/users/1',
  '/admin/..%2fusers/1',
  '/admin%2f..%2fusers/1',
  '/admin%2F..%2Fusers',
  '/admin/./../users/1',
  '/./admin/../users/1',
  '//admin/../users/1',
  '/users/1/..',
  '/users/./1',
  '/users//1',
  '/users/1%2f..%2f..%2fadmin%2fflags',
  '/users/%2e%2e/metrics',
  '/healthz/..',
];

/** Registers afterEach cleanup: `defer(fn)` runs fn after the test, last registered first, even when it failed. */
export function deferredCleanup(): (fn: () => Promise<void>) => void {
  const pending: (() => Promise<void>)[] = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const fn of pending.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  });
  return (fn) => void pending.push(fn);
}

export interface RunningVariant {
  url: string;
  stop(): Promise<void>;
}

export interface BalancerVariant {
  kind: 'nginx' | 'node';
  /** Set when this variant is skipped, and why. */
  skipReason: string | undefined;
  start(upstreams: string[]): Promise<RunningVariant>;
}

const nginxPath = findNginx();
const requireNginx = process.env.REQUIRE_NGINX === '1';
const nginxSkipReason = nginxPath || requireNginx ? undefined : 'nginx not found on PATH or at /usr/sbin/nginx (REQUIRE_NGINX=1 turns this skip into a failure)';
if (nginxSkipReason) console.warn(`balancer tests: the nginx variant is skipped: ${nginxSkipReason}`);

/**
 * nginx and the Node proxy, for describe.each. Without nginx the nginx variant is skipped, visibly, unless
 * REQUIRE_NGINX=1: then it runs, and startNginx's "nginx not found" error fails every test.
 */
export const balancerVariants: BalancerVariant[] = [
  {
    kind: 'nginx',
    skipReason: nginxSkipReason,
    start: (upstreams) => startNginx({ upstreams }),
  },
  { kind: 'node', skipReason: undefined, start: (upstreams) => startNodeProxy({ upstreams }) },
];

/** The title of the inner describe: the skip reason when skipped, so the report says why. */
export function variantTitle(variant: BalancerVariant, what: string): string {
  return variant.skipReason ? `${what} (SKIPPED: ${variant.skipReason})` : what;
}
