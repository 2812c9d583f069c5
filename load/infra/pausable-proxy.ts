// A TCP proxy a fault scenario can pause: one instance reaches the database through it, and the scenario cuts
// that instance off (load/chaos/cut-off-v2.ts) while every other instance keeps its direct connection. A
// network partition seen from one process, without touching the shared server or anyone else's connections.
//
// pause('hold'): nothing is forwarded any more, either way; bytes already sent wait in the proxy, new
//   connections are accepted and wait too (a partition where packets are dropped: the client's queries hang).
//   What clients send meanwhile is read and kept in order, so a scenario can see that a statement has left its
//   instance and is on the wire (holding(text)) before it freezes that instance.
// pause('cut'): every open connection is destroyed (both sides) and each new one is destroyed as it arrives
//   (a partition the kernel reports: the client's queries fail at once, reconnects fail at once).
// resume(): held bytes and held connections go through; forwarding goes on. close(): everything ends.
// trap(text): holds one connection only, the first whose client bytes carry `text` (a statement's values), from
//   the chunk that carries it on, while every other connection flows: one request inside an instance held on the
//   wire while that instance keeps its heartbeats, its flag polls and the rest of its traffic (release() lets it go).
import net from 'node:net';

export type PauseMode = 'hold' | 'cut';

export interface PausableProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  readonly paused: PauseMode | null;
  /** Connections open through the proxy right now. */
  readonly connections: number;
  /** Whether bytes a client sent while held, not yet forwarded, contain `text` (a statement on the wire). */
  holding(text: string): boolean;
  pause(mode: PauseMode): void;
  resume(): void;
  /** Holds the first connection whose client bytes contain `text`, from there on; the others flow. One trap at a time. */
  trap(text: string): Trap;
  close(): Promise<void>;
}

export interface Trap {
  /** Whether a connection carried the text and is held. */
  readonly caught: boolean;
  /** Lets the caught connection's held bytes through and forwarding go on (or disarms a trap not sprung). */
  release(): void;
}

interface Pair {
  client: net.Socket;
  /** Null until the upstream connection is made (a connection accepted while held waits for resume). */
  upstream: net.Socket | null;
  /** Bytes the client sent that are not forwarded yet: before the upstream existed, or while held. */
  waiting: Buffer[];
  /** The client closed while its bytes were held: they still go through on resume (as TCP delivers data, then FIN). */
  clientGone: boolean;
  /** Held by a trap (trap()), whatever the proxy's mode. */
  trapped: boolean;
  /** The last bytes the client sent, so a trap's text split across two chunks is still seen. */
  tail: Buffer;
}

const NOTHING = Buffer.alloc(0);

export async function startPausableProxy({ targetHost, targetPort, port = 0 }: { targetHost: string; targetPort: number; port?: number }): Promise<PausableProxy> {
  let paused: PauseMode | null = null;
  const pairs = new Set<Pair>();
  let armed: { text: Buffer; spring(pair: Pair): void } | null = null;
  const held = (pair: Pair) => paused === 'hold' || pair.trapped;

  const end = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  // While held, the database's side is not read (its answers wait in the kernel's buffers) and what the client
  // sends waits in `waiting`: nothing reaches the other end, as across a dead link.
  const flow = (pair: Pair) => {
    if (!pair.upstream) return;
    if (held(pair)) {
      pair.upstream.pause();
      return;
    }
    for (const chunk of pair.waiting.splice(0)) pair.upstream.write(chunk);
    if (pair.clientGone) pair.upstream.end();
    pair.upstream.resume();
  };
  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => end(pair));
    upstream.on('close', () => end(pair));
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.clientGone) pair.client.write(chunk);
    });
    flow(pair);
  };

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    if (paused === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null, waiting: [], clientGone: false, trapped: false, tail: NOTHING };
    pairs.add(pair);
    client.on('error', () => end(pair));
    client.on('close', () => {
      if (held(pair) && pair.waiting.length > 0) pair.clientGone = true;
      else end(pair);
    });
    client.on('data', (chunk: Buffer) => {
      if (armed && Buffer.concat([pair.tail, chunk]).includes(armed.text)) armed.spring(pair);
      pair.tail = armed ? chunk.subarray(Math.max(0, chunk.length - armed.text.length + 1)) : NOTHING;
      if (pair.upstream && !held(pair)) pair.upstream.write(chunk);
      else pair.waiting.push(chunk);
    });
    if (paused !== 'hold') connectUpstream(pair);
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
    holding(text) {
      return [...pairs].some((pair) => Buffer.concat(pair.waiting).includes(text));
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
    trap(text) {
      if (armed) throw new Error('pausable proxy: one trap at a time');
      let caught: Pair | null = null;
      const trap = {
        text: Buffer.from(text),
        spring(pair: Pair) {
          caught = pair;
          pair.trapped = true;
          armed = null;
          flow(pair);
        },
      };
      armed = trap;
      return {
        get caught() {
          return caught !== null;
        },
        release() {
          if (armed === trap) armed = null;
          const pair = caught as Pair | null;
          if (!pair || !pair.trapped) return;
          pair.trapped = false;
          if (!pairs.has(pair)) return;
          if (pair.upstream) flow(pair);
          else if (paused !== 'hold') connectUpstream(pair);
        },
      };
    },
    async close() {
      for (const pair of [...pairs]) end(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of the database a URL names, and the same URL through it (what an instance is given). */
export async function proxyInFrontOf(databaseUrl: string): Promise<{ proxy: PausableProxy; url: string }> {
  const url = new URL(databaseUrl);
  const proxy = await startPausableProxy({ targetHost: url.hostname, targetPort: Number(url.port || 3306) });
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}
