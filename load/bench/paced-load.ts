// A steady load, as production traffic arrives: an open-loop GET/PUT mix at a fixed rate, one request every
// 1000/rate ms, each sent at its own time whether or not the earlier ones have been answered (wrk2's and k6's
// constant-arrival-rate model). Latency counts from the moment a request was due, not from when it was sent, so a
// stalled server or client is charged to the answers it delayed (no coordinated omission).
//
// Why not autocannon's overallRate: it gives each connection a budget per second and sends it as fast as it can
// from the start of the second (lib/httpClient.js: reqsMadeThisSecond, reset by a 1 s interval), so 200 req/s
// over 10 connections is a burst of 200 requests every second, and its p99 is the time the server takes to drain
// that burst. That measures throughput under a burst, not what a user of a steady service feels: a backfill that
// takes 20% of the server for 50 ms lengthens every burst it meets.
import http from 'node:http';
import { mapping } from '../../shared/schema-mapping.ts';
import { putBody } from './http-load.ts';

export interface PacedLoadOptions {
  url: string;
  keys: string[];
  /** Requests per second, evenly spaced; every second request a PUT with a fresh value, the others GETs. */
  rate: number;
  /** Called with each answer's end time (performance.now()), its latency from when it was due (ms), its status (0: no answer) and whether it was a PUT. */
  onAnswer: (atMs: number, latencyMs: number, status: number, write: boolean) => void;
  signal: AbortSignal;
  /** Open connections at most (requests due while all are busy wait for one, and that wait is counted). */
  maxSockets?: number;
  /** Give up on one request after this long (counted as status 0). */
  timeoutMs?: number;
}

/** Runs until `signal` aborts, then waits for the answers still out. Resolves with the requests sent. */
export async function runPacedLoad({ url, keys, rate, onAnswer, signal, maxSockets = 32, timeoutMs = 10_000 }: PacedLoadOptions): Promise<number> {
  if (keys.length === 0) throw new Error('runPacedLoad: no users to load');
  if (!(rate > 0)) throw new Error(`runPacedLoad: rate must be above 0 (got ${rate})`);
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const paths = keys.map((key) => `${mapping.route}/${encodeURIComponent(key)}`);
  const intervalMs = 1000 / rate;
  const started = performance.now();
  const outstanding = new Set<Promise<void>>();
  let sent = 0;

  const send = (dueAt: number, write: boolean) => {
    const path = paths[Math.floor(Math.random() * paths.length)]!;
    const body = write ? putBody() : undefined;
    const answered = new Promise<void>((resolve) => {
      const done = (status: number) => {
        onAnswer(performance.now(), performance.now() - dueAt, status, write);
        resolve();
      };
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method: write ? 'PUT' : 'GET',
          agent,
          timeout: timeoutMs,
          headers: write ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body!) } : {},
        },
        (response) => {
          response.resume();
          response.on('end', () => done(response.statusCode ?? 0));
          response.on('error', () => done(0));
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => done(0));
      request.end(body);
    });
    outstanding.add(answered);
    void answered.then(() => outstanding.delete(answered));
  };

  while (!signal.aborted) {
    // Every request due by now goes out now, each with its own due time: a late timer never thins the load.
    const now = performance.now();
    while (started + sent * intervalMs <= now) {
      send(started + sent * intervalMs, sent % 2 === 0);
      sent++;
    }
    const wait = Math.max(0, started + sent * intervalMs - performance.now());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, wait);
      function finish() {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        resolve();
      }
      signal.addEventListener('abort', finish, { once: true });
    });
  }
  await Promise.all(outstanding);
  agent.destroy();
  return sent;
}
