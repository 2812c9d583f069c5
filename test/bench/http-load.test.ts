// The bench's load split by the client (load/bench/http-load.ts runSplitHttpLoad), the baseline of the nginx part:
// the connections are shared out over the targets, every answer counts, and the CPU of every target's process is
// charged. Real servers in processes of their own, so their CPU is theirs.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runSplitHttpLoad } from '../../load/bench/http-load.ts';

/** A server that answers every request with 200 and, on SIGTERM, prints how many requests it saw from how many connections. */
const SERVER = `
const http = require('node:http');
let requests = 0;
const sockets = new Set();
const server = http.createServer((req, res) => { requests++; sockets.add(req.socket); req.resume(); req.on('end', () => res.end('{}')); });
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => { console.log(JSON.stringify({ requests, connections: sockets.size })); process.exit(0); });
`;

interface Server {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Stops it; what it saw. */
  stop(): Promise<{ requests: number; connections: number }>;
}

const started: Server[] = [];
afterEach(() => {
  for (const server of started.splice(0)) server.child.kill('SIGKILL');
});

function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      if (waiting) [waiting, waiting = undefined][0]!(line);
      else lines.push(line);
    }
  });
  const next = () => new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : (waiting = resolve)));
  return next().then((line) => {
    const server: Server = {
      url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`,
      pid: child.pid!,
      child,
      stop: async () => {
        const seen = next();
        child.kill('SIGTERM');
        return JSON.parse(await seen) as { requests: number; connections: number };
      },
    };
    started.push(server);
    return server;
  });
}

describe('the load split by the client', () => {
  it('When 3 connections are split over two servers, then one gets 2 and the other 1, throughput is the sum, and both servers\' CPU is charged', async () => {
    const servers = await Promise.all([startServer(), startServer()]);

    const run = await runSplitHttpLoad({ urls: servers.map((s) => s.url), operation: 'get', keys: ['1', '2', '3'], seconds: 1, connections: 3, pids: servers.map((s) => s.pid) });
    const seen = await Promise.all(servers.map((s) => s.stop()));

    expect(seen.map((s) => s.connections)).toEqual([2, 1]);
    expect(seen.every((s) => s.requests > 0)).toBe(true);
    expect(run.errors).toBe(0);
    // Every answer the client counted was served by one of the two (a request in flight at the end is seen but not answered).
    expect(run.requests).toBeGreaterThan(0);
    expect(run.requests).toBeLessThanOrEqual(seen[0]!.requests + seen[1]!.requests);
    // Each target's answers over its own run, summed.
    expect(run.rps).toBeGreaterThan((0.9 * run.requests) / run.seconds);
    expect(run.rps).toBeLessThan((1.1 * run.requests) / run.seconds);
    expect(run.cpuMsPerRequest).toBeGreaterThan(0);
    // The user-mode part is a part: at most the whole.
    expect(run.userCpuMsPerRequest).not.toBeNull();
    expect(run.userCpuMsPerRequest!).toBeLessThanOrEqual(run.cpuMsPerRequest!);
    expect(run.p99).toBeGreaterThanOrEqual(run.p50);
  });

  it('When there are fewer connections than targets, then it refuses before sending anything', async () => {
    await expect(runSplitHttpLoad({ urls: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], operation: 'get', keys: ['1'], seconds: 1, connections: 1 })).rejects.toThrow(/1 connections cannot be split over 2 targets/);
  });
});
