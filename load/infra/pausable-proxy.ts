// A TCP proxy a fault scenario can pause: one instance reaches the database through it, and the scenario cuts
// that instance off (load/chaos/cut-off-v2.ts) while every other instance keeps its direct connection. A
// network partition seen from one process, without touching the shared server or anyone else's connections.
//
// pause('hold'): nothing is forwarded any more, either way; bytes already sent wait in the proxy, new
//   connections are accepted and wait too (a partition where packets are dropped: the client's queries hang).
// pause('cut'): every open connection is destroyed (both sides) and each new one is destroyed as it arrives
//   (a partition the kernel reports: the client's queries fail at once, reconnects fail at once).
// resume(): held bytes and held connections go through; forwarding goes on. close(): everything ends.
import net from 'node:net';

export type PauseMode = 'hold' | 'cut';

export interface PausableProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  readonly paused: PauseMode | null;
  /** Connections open through the proxy right now. */
  readonly connections: number;
  pause(mode: PauseMode): void;
  resume(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  /** Null until the upstream connection is made (a connection accepted while held waits for resume). */
  upstream: net.Socket | null;
  /** Bytes the client sent before the upstream existed. */
  early: Buffer[];
}

export async function startPausableProxy({ targetHost, targetPort, port = 0 }: { targetHost: string; targetPort: number; port?: number }): Promise<PausableProxy> {
  let paused: PauseMode | null = null;
  const pairs = new Set<Pair>();

  const end = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  // Reading stops while held: the kernel's buffers fill and the sender waits, as across a dead link.
  const flow = (pair: Pair) => {
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket) continue;
      if (paused === 'hold') socket.pause();
      else socket.resume();
    }
  };
  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => end(pair));
    upstream.on('close', () => end(pair));
    upstream.on('data', (chunk: Buffer) => pair.client.write(chunk));
    for (const chunk of pair.early.splice(0)) upstream.write(chunk);
    flow(pair);
  };

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    if (paused === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null, early: [] };
    pairs.add(pair);
    client.on('error', () => end(pair));
    client.on('close', () => end(pair));
    client.on('data', (chunk: Buffer) => (pair.upstream ? pair.upstream.write(chunk) : pair.early.push(chunk)));
    if (paused === 'hold') client.pause();
    else connectUpstream(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    get paused() {
      return paused;
    },
    get connections() {
      return pairs.size;
    },
    pause(mode) {
      paused = mode;
      for (const pair of [...pairs]) {
        if (mode === 'cut') end(pair);
        else flow(pair);
      }
    },
    resume() {
      paused = null;
      for (const pair of pairs) {
        if (pair.upstream) flow(pair);
        else connectUpstream(pair);
      }
    },
    async close() {
      for (const pair of [...pairs]) end(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
