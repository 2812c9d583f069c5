// Server lifecycle: listen, and drain on SIGTERM so that no request through a keep-alive balancer fails.
//
// The drain that loses nothing (measured, ../NOTES.md): stop accepting new connections, answer every request
// still arriving on an open keep-alive connection with `Connection: close`, finish in-flight requests, and
// NEVER close an idle keep-alive connection ourselves: the balancer may be writing a request on it at that
// very moment, and a POST it already sent is not retried. The balancer closes idle connections first because
// the timeouts are ordered: balancer upstream keepalive_timeout (2 s) < KEEP_ALIVE_TIMEOUT_MS (5 s) <
// DRAIN_DEADLINE_MS (10 s). Node 20's server.close() closes idle connections at once (the lossy path, as does
// http-terminator), so the drain stops only the listener (net.Server#close).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { DRAIN_DEADLINE_MS, KEEP_ALIVE_TIMEOUT_MS } from '../config.ts';

export interface RunningServer {
  server: http.Server;
  port: number;
  /**
   * Stops accepting connections (a balancer gets "connection refused" and tries the next slot, for any method)
   * and keeps the open ones, exactly as the drain does; resume() listens on the same port again. Used while an
   * instance is not ready: starting, or its registry lease lost (shared/server/lease.ts).
   */
  pause(): void;
  /**
   * pause(), and also end the idle keep-alive connections and close every other one after its response: for an
   * instance that must not be sent anything more (its lease lost, the stage guard). Left open, a balancer would
   * keep sending requests on them that the instance can only refuse, instead of connecting to another slot.
   * Unlike the drain (where the balancer closes idle connections first), a POST written on an idle connection at
   * this very moment is lost with it: that race is the price of not refusing every later request on it.
   */
  shed(): void;
  resume(): Promise<void>;
  readonly listening: boolean;
  /** Stops accepting, drains, resolves when every connection has ended (or the deadline forced them). */
  drain(): Promise<{ forced: boolean }>;
  readonly draining: boolean;
}

export async function listen(
  handler: http.RequestListener,
  {
    port,
    host,
    keepAliveTimeoutMs = KEEP_ALIVE_TIMEOUT_MS,
    drainDeadlineMs = DRAIN_DEADLINE_MS,
    paused = false,
    serverOptions = {},
  }: {
    port: number;
    host: string;
    keepAliveTimeoutMs?: number;
    drainDeadlineMs?: number;
    /**
     * Not accepting until resume(). A fixed port is not even bound until then (a client polling it gets
     * "connection refused", never a connection reset); port 0 is bound to learn the port and closed at once
     * (nobody can know that port yet), and is picked outside the ephemeral range (portOutsideEphemeralRange).
     */
    paused?: boolean;
    /** For http.createServer: the request and response constructors (shared/server/express-requests.ts). */
    serverOptions?: http.ServerOptions;
  },
): Promise<RunningServer> {
  if (!(keepAliveTimeoutMs < drainDeadlineMs)) throw new Error('keepAliveTimeout must be shorter than the drain deadline');
  const server = http.createServer(serverOptions);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Must exceed keepAliveTimeout, or Node may cut a connection the balancer still considers usable.
  server.headersTimeout = keepAliveTimeoutMs + 1000;
  let draining = false;
  const unanswered = new UnansweredResponses();
  // Registered before the app, so it runs first for every request.
  server.on('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    unanswered.add(res);
    res.on('finish', () => unanswered.delete(res));
    res.on('close', () => unanswered.delete(res));
  });
  server.on('request', handler);
  let boundPort = port;
  const bind = (onPort: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, host, () => {
        server.off('error', reject);
        boundPort = (server.address() as net.AddressInfo).port;
        // Synchronously in the listening callback, so not one connection is accepted before it (also when a
        // pause or the drain came while this listen was under way).
        if (paused || draining) net.Server.prototype.close.call(server);
        resolve();
      });
    });
  if (!paused) await bind(port);
  else if (port === 0) await bind(await portOutsideEphemeralRange(host));
  // Stop the listener only (open connections stay: see the drain), the same call the drain makes.
  const stopListening = () => {
    if (server.listening) net.Server.prototype.close.call(server);
  };
  let drained: Promise<{ forced: boolean }> | undefined;
  let binding: Promise<void> | undefined;
  return {
    server,
    port: boundPort,
    get draining() {
      return draining;
    },
    get listening() {
      return server.listening;
    },
    pause() {
      paused = true;
      stopListening();
    },
    shed() {
      paused = true;
      stopListening();
      for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
      // After this turn's I/O: a process resumed from SIGSTOP loses its lease on a timer, before it has read the
      // requests that waited in its sockets; those connections are not idle, and each request gets its answer.
      setImmediate(() => {
        if (paused) server.closeIdleConnections();
      });
    },
    async resume() {
      paused = false;
      if (server.listening || draining) return;
      await (binding ??= bind(boundPort).finally(() => (binding = undefined)));
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
        const done = () => {
          clearTimeout(deadline);
          resolve({ forced: false });
        };
        // Stop the listener only; 'close' is emitted once the last connection has ended. A paused server has no
        // listener left to stop, and when it has no connection either, its 'close' was emitted already.
        if (server.listening) net.Server.prototype.close.call(server, done);
        else server.getConnections((_err, count) => (count === 0 ? done() : server.once('close', done)));
      });
      return drained;
    },
  };
}

const SLOT = Symbol('unanswered slot');
type Tracked = http.ServerResponse & { [SLOT]?: number };

/**
 * The responses not finished yet, for shed() and drain(). Not a Set: a Set with an add and a delete per request
 * replaces its hash table every few requests (deleted entries are only cleared by copying), and V8 allocates the
 * new table in the generation of the one it replaces (ordered-hash-table.cc, Rehash). Once one table has lived
 * through two young-generation collections (an idle moment is enough), every later table is born in the old
 * generation for the rest of the process. Each holds the responses in flight when it was made, and an old object
 * keeps what it points at alive through young collections until a mark-compact frees it: so every response and
 * everything it reaches (request, headers, closures) is promoted. About 2 KB per request on a bare server
 * (test/shared/server/promotion.test.ts) and about 10 KB on an instance, which then peaked at 155-165 MB instead
 * of about 105 MB and spent more CPU per request (docs/performance.md). An array with swap-remove instead: a
 * finished response's slot is overwritten or emptied, so nothing old points at it.
 */
class UnansweredResponses implements Iterable<http.ServerResponse> {
  private readonly responses: Tracked[] = [];

  add(res: Tracked): void {
    res[SLOT] = this.responses.push(res) - 1;
  }

  delete(res: Tracked): void {
    const slot = res[SLOT];
    if (slot === undefined) return;
    res[SLOT] = undefined;
    const last = this.responses.pop()!;
    if (last !== res) {
      this.responses[slot] = last;
      last[SLOT] = slot;
    }
  }

  [Symbol.iterator](): Iterator<http.ServerResponse> {
    return [...this.responses][Symbol.iterator]();
  }
}

/** The kernel's range for ephemeral ports (every outgoing connection's local port, and listen on port 0). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) return [low!, high!];
  } catch {
    // not Linux: its default below
  }
  return [32768, 60999];
}

/** The lowest port picked for a paused server: above the well-known services' ports a developer machine runs. */
const LOWEST_PICKED_PORT = 20000;

/**
 * A free port for a server that names itself by its port before it accepts (an instance registers its address,
 * then opens the port): picked at random below the ephemeral range, so that no outgoing connection of this
 * machine (a load generator opens thousands) is given it while it is closed (CI saw exactly that: EADDRINUSE at
 * registration). Only another process picking the same port on purpose can take it. 0 (the kernel's pick, as
 * before) when the range leaves no room or no candidate was free.
 */
async function portOutsideEphemeralRange(host: string): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.max(1024, Math.min(LOWEST_PICKED_PORT, low - 1000));
  if (low - floor < 100) return 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = floor + Math.floor(Math.random() * (low - floor));
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(candidate, host, () => probe.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
  return 0;
}
