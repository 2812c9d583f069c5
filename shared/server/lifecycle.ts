// Server lifecycle: listen, and drain on SIGTERM so that no request through a keep-alive balancer fails.
//
// The drain that loses nothing (measured, ../NOTES.md): stop accepting new connections, answer every request
// still arriving on an open keep-alive connection with `Connection: close`, finish in-flight requests, and
// NEVER close an idle keep-alive connection ourselves: the balancer may be writing a request on it at that
// very moment, and a POST it already sent is not retried. The balancer closes idle connections first because
// the timeouts are ordered: balancer upstream keepalive_timeout (2 s) < KEEP_ALIVE_TIMEOUT_MS (5 s) <
// DRAIN_DEADLINE_MS (10 s). Node 20's server.close() closes idle connections at once (the lossy path, as does
// http-terminator), so the drain stops only the listener (net.Server#close).
import http from 'node:http';
import net from 'node:net';
import { DRAIN_DEADLINE_MS, KEEP_ALIVE_TIMEOUT_MS } from '../config.ts';

export interface RunningServer {
  server: http.Server;
  port: number;
  /** Stops accepting, drains, resolves when every connection has ended (or the deadline forced them). */
  drain(): Promise<{ forced: boolean }>;
  readonly draining: boolean;
}

export async function listen(
  handler: http.RequestListener,
  { port, host, keepAliveTimeoutMs = KEEP_ALIVE_TIMEOUT_MS, drainDeadlineMs = DRAIN_DEADLINE_MS }: { port: number; host: string; keepAliveTimeoutMs?: number; drainDeadlineMs?: number },
): Promise<RunningServer> {
  if (!(keepAliveTimeoutMs < drainDeadlineMs)) throw new Error('keepAliveTimeout must be shorter than the drain deadline');
  const server = http.createServer();
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Must exceed keepAliveTimeout, or Node may cut a connection the balancer still considers usable.
  server.headersTimeout = keepAliveTimeoutMs + 1000;
  let draining = false;
  const unanswered = new Set<http.ServerResponse>();
  // Registered before the app, so it runs first for every request.
  server.on('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    unanswered.add(res);
    res.on('finish', () => unanswered.delete(res));
    res.on('close', () => unanswered.delete(res));
  });
  server.on('request', handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  let drained: Promise<{ forced: boolean }> | undefined;
  return {
    server,
    port: address.port,
    get draining() {
      return draining;
    },
    drain() {
      drained ??= new Promise((resolve) => {
        draining = true;
        for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
        const deadline = setTimeout(() => {
          server.closeAllConnections();
          resolve({ forced: true });
        }, drainDeadlineMs);
        deadline.unref();
        // Stop the listener only; the callback runs once the last connection has ended.
        net.Server.prototype.close.call(server, () => {
          clearTimeout(deadline);
          resolve({ forced: false });
        });
      });
      return drained;
    },
  };
}
