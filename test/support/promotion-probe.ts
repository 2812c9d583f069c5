// A child process for test/shared/server/promotion.test.ts, run with --expose-gc and --trace-gc-nvp: a server
// from shared/server/lifecycle.ts's listen() answering after a turn of the event loop (as an app answers after
// its database), loaded by 20 keep-alive clients in this same process. It prints PROBE-START, then sends
// PROBE_REQUESTS requests, then prints PROBE-END and exits. V8 prints one line per collection between them with
// the bytes that collection promoted to the old generation.
//
// Before the measurement the server is idle through two young-generation collections: whatever its bookkeeping
// holds then (a Set's hash table, an array's storage) has survived twice and lives in the old generation, as it
// does in an instance that was idle for a moment before traffic came.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '../../shared/server/lifecycle.ts';

const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
if (!gc) throw new Error('promotion-probe: run with --expose-gc');
const total = Number(process.env.PROBE_REQUESTS ?? 20_000);
const connections = 20;

const running = await listen((_req, res) => void setImmediate(() => res.end('{"ok":true}')), { port: 0, host: '127.0.0.1' });
if (process.env.PROBE_CONTROL === 'set') {
  // The control: the bookkeeping lifecycle.ts had before 3 Dec 2026, beside the server's own. The test shows
  // with it that this probe sees the promotion it guards against.
  const unanswered = new Set<http.ServerResponse>();
  running.server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    unanswered.add(res);
    res.on('finish', () => unanswered.delete(res));
    res.on('close', () => unanswered.delete(res));
  });
}
const port = (running.server.address() as AddressInfo).port;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });

const one = () =>
  new Promise<void>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });

async function load(requests: number): Promise<void> {
  let left = requests;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (left-- > 0) await one();
    }),
  );
}

await load(2000);
gc({ type: 'major' });
gc({ type: 'minor' });
gc({ type: 'minor' });
console.log('PROBE-START');
await load(total);
console.log('PROBE-END');
agent.destroy();
process.exit(0);
