// The balancer when nginx is not installed: a round-robin reverse proxy on http-proxy-3 that keeps the
// semantics of nginx.conf.template, so a rollout behaves the same behind either:
// - a path with a dot segment, an empty segment or an encoded slash or dot is a 400 from the proxy itself;
// - only /users, /users/... and /healthz are proxied; everything else is a 404 from the proxy itself;
// - a fixed list of slots; a refused connection moves the request to the next slot for every method
//   (nothing was sent), any other error or a 502 answer only for idempotent methods (a POST already
//   sent is never sent twice), and a failed slot sits out FAIL_TIMEOUT_MS (nginx max_fails=1 fail_timeout);
//   a 503 (the shared database is down) goes to the client as it is and fails no slot;
// - keep-alive connections to the slots, closed by the proxy after UPSTREAM_KEEP_ALIVE_TIMEOUT_MS idle,
//   before the app's own keep-alive timeout would (the drain depends on that ordering);
// - the apps' response headers pass through, plus X-Upstream-Addr listing the slots tried.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { own } from '../cleanup.ts';
import { mapping } from '../../../shared/schema-mapping.ts';

/** nginx.conf.template's upstream `keepalive_timeout 2s`; must stay below the app's 5 s keep-alive timeout. */
export const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 2000;
/** nginx.conf.template's `fail_timeout=2s` (with max_fails=1). */
export const FAIL_TIMEOUT_MS = 2000;
/** nginx.conf.template's upstream `keepalive 32` (idle connections kept per slot here). */
const UPSTREAM_IDLE_CONNECTIONS = 32;
/** nginx's default client_max_body_size: the body is buffered whole so that it can be sent to a second slot. */
const MAX_BODY_BYTES = 1024 * 1024;
/** How long stop() lets in-flight requests finish. */
const STOP_DEADLINE_MS = 5000;
/** nginx's default proxy_read_timeout. */
const UPSTREAM_READ_TIMEOUT_MS = 60_000;

// The methods nginx re-sends to the next slot after an error (it never re-sends POST, PATCH or LOCK).
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
// Errors raised before a connection existed: nothing reached the app, so any method may go elsewhere.
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
const HOP_BY_HOP_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/**
 * A raw path a balancer must not forward (nginx.conf.template's `if ($request_uri ~ ...)`, the same pattern): a
 * dot segment, an empty segment, or an encoded slash, dot or backslash. Matched on the normalized path but
 * forwarded raw, /admin/../users/1 would reach the app's admin router.
 */
export const UNSAFE_PATH = /^[^?]*(\/\.\.?(\/|\?|$)|\/\/|%2[eEfF]|%5[cC])/;

/** The public surface of the app, the same rule as the template's `location` blocks. */
export function isPublicRoute(pathname: string): boolean {
  return pathname === mapping.route || pathname.startsWith(`${mapping.route}/`) || pathname === '/healthz';
}

export interface StartNodeProxyOptions {
  /** 0 (the default) picks a free port. */
  listenPort?: number;
  listenHost?: string;
  /** One per slot, "host:port"; a slot may have nothing listening yet. */
  upstreams: string[];
}

export interface NodeProxyBalancer {
  kind: 'node';
  url: string;
  port: number;
  /** Stops accepting, waits for in-flight requests, closes every connection (clients' and upstream). */
  stop(): Promise<void>;
}

interface Slot {
  address: string;
  target: string;
  /** Epoch ms until which the slot is out of the rotation after a failure. */
  downUntil: number;
}

type Attempt = { kind: 'response'; response: http.IncomingMessage } | { kind: 'error'; error: NodeJS.ErrnoException };

function sendError(res: http.ServerResponse, status: number, code: string, message: string, tried: string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
  if (tried.length > 0) headers['x-upstream-addr'] = tried.join(', ');
  res.writeHead(status, headers).end(`${JSON.stringify({ error: { code, message, details: null } })}\n`);
}

const EMPTY_BODY = Buffer.alloc(0);

/** The whole request body (undefined when over MAX_BODY_BYTES). */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve(EMPTY_BODY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export async function startNodeProxy({ listenPort = 0, listenHost = '127.0.0.1', upstreams }: StartNodeProxyOptions): Promise<NodeProxyBalancer> {
  if (upstreams.length === 0) throw new Error('startNodeProxy: at least one upstream slot is required');
  const slots: Slot[] = upstreams.map((address) => ({ address, target: `http://${address}`, downUntil: 0 }));
  let nextSlot = 0;

  // `timeout` also closes a connection that sat idle in the pool that long (Node's agent destroys idle sockets on it).
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: UPSTREAM_IDLE_CONNECTIONS, timeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS });
  const proxy = createProxyServer({ agent, selfHandleResponse: true, proxyTimeout: UPSTREAM_READ_TIMEOUT_MS });
  // With selfHandleResponse the response arrives as an event (so does a client gone mid-request, which
  // skips the error callback); each request waits for its own.
  const pending = new WeakMap<http.IncomingMessage, (outcome: Attempt) => void>();
  proxy.on('proxyRes', (response, req) => pending.get(req)?.({ kind: 'response', response }));
  proxy.on('econnreset', (error, req) => pending.get(req)?.({ kind: 'error', error: error as NodeJS.ErrnoException }));

  /** The slots to try for one request, in round-robin order, skipping those sitting out a failure. */
  function candidates(): Slot[] {
    const now = Date.now();
    const start = nextSlot;
    nextSlot = (nextSlot + 1) % slots.length;
    const ordered = slots.map((_, i) => slots[(start + i) % slots.length]!);
    return ordered.filter((slot) => slot.downUntil <= now);
  }

  function attempt(req: http.IncomingMessage, res: http.ServerResponse, slot: Slot, body: Buffer): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Attempt) => {
        if (settled) return;
        settled = true;
        pending.delete(req);
        resolve(outcome);
      };
      pending.set(req, settle);
      const buffer = Readable.from(body.length > 0 ? [body] : []);
      proxy.web(req, res, { target: slot.target, buffer }, (error) => settle({ kind: 'error', error: error as NodeJS.ErrnoException }));
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    if (UNSAFE_PATH.test(rawUrl)) {
      req.resume();
      sendError(res, 400, 'invalid_path', 'dot segments, empty segments and encoded slashes or dots are not accepted', []);
      return;
    }
    const url = rawUrl.startsWith('/') ? new URL(`http://balancer${rawUrl}`) : undefined;
    if (!url || !isPublicRoute(url.pathname)) {
      req.resume();
      sendError(res, 404, 'route_not_found', 'not a public route', []);
      return;
    }
    const body = await readBody(req);
    if (!body) {
      sendError(res, 413, 'body_too_large', 'request body too large', []);
      return;
    }
    // Forward exactly what was judged, with a known length and without the client's connection headers
    // (nginx: proxy_set_header Connection ""; the body buffered, sent with Content-Length). The
    // X-Forwarded-* headers are set here, once, not by http-proxy's xfwd, which appends on every attempt.
    req.url = `${url.pathname}${url.search}`;
    for (const header of HOP_BY_HOP_HEADERS) delete req.headers[header];
    if (body.length > 0 || req.headers['content-length'] !== undefined) req.headers['content-length'] = String(body.length);
    const forwardedFor = req.headers['x-forwarded-for'];
    req.headers['x-forwarded-for'] = [forwardedFor, req.socket.remoteAddress].filter(Boolean).join(', ');
    req.headers['x-forwarded-proto'] = 'http';

    const method = req.method ?? 'GET';
    const idempotent = IDEMPOTENT_METHODS.has(method);
    const tried: string[] = [];
    const order = candidates();
    for (const [index, slot] of order.entries()) {
      tried.push(slot.address);
      const isLast = index === order.length - 1;
      const outcome = await attempt(req, res, slot, body);
      if (res.destroyed) return;
      if (outcome.kind === 'error') {
        slot.downUntil = Date.now() + FAIL_TIMEOUT_MS;
        const notSent = NOT_CONNECTED_CODES.has(outcome.error.code ?? '');
        if (!isLast && (notSent || idempotent) && !res.headersSent) continue;
        sendError(res, 502, 'bad_gateway', 'no instance answered', tried);
        return;
      }
      const { response } = outcome;
      if (response.statusCode === 502 && idempotent && !isLast) {
        slot.downUntil = Date.now() + FAIL_TIMEOUT_MS;
        response.resume();
        continue;
      }
      const headers: http.OutgoingHttpHeaders = { ...response.headers };
      for (const header of HOP_BY_HOP_HEADERS) delete headers[header];
      headers['x-upstream-addr'] = tried.join(', ');
      res.writeHead(response.statusCode ?? 502, headers);
      // An upstream that dies mid-body: cut the client off too, so it cannot take a truncated body as whole.
      response.once('error', () => res.destroy());
      response.once('aborted', () => res.destroy());
      response.pipe(res);
      return;
    }
    sendError(res, 502, 'bad_gateway', 'no live upstreams', tried);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => sendError(res, 502, 'bad_gateway', 'proxy failure', []));
  });
  // Load clients hold their connections for the whole run (nginx: keepalive_timeout 75s).
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost;
  let stopping: Promise<void> | undefined;
  // In-process: it dies with the run; registered so that an interrupt names it and closes it first.
  const release = own({ kind: 'node-proxy', name: 'node proxy', stop: () => (stopping ??= stop()) });
  const stop = async () => {
    // server.close() waits for in-flight requests (and closes idle connections); the deadline bounds it.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = setTimeout(() => server.closeAllConnections(), STOP_DEADLINE_MS);
    await closed;
    clearTimeout(deadline);
    agent.destroy();
    proxy.close();
    release();
  };
  return { kind: 'node', url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, stop: () => (stopping ??= stop()) };
}
