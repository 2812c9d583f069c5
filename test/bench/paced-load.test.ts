// The live part's load (load/bench/paced-load.ts): requests arrive evenly spaced at the asked rate, not as one
// burst per second (autocannon's overallRate, which the live figure used before: its p99 was the time to drain
// that burst), and a stalled server neither thins the load nor hides the wait (latency counts from when each
// request was due).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { runPacedLoad } from '../../load/bench/paced-load.ts';

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that notes when each request arrived; `holdUntil` keeps answers back until that time (performance.now()). */
async function recordingServer(): Promise<{ url: string; arrivals: number[]; hold: (untilMs: number) => void }> {
  const arrivals: number[] = [];
  let holdUntil = 0;
  server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => setTimeout(() => res.end('{}'), Math.max(0, holdUntil - performance.now())));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, hold: (untilMs) => (holdUntil = untilMs) };
}

/** Requests per 100 ms bin, from the first arrival. */
function per100ms(arrivals: number[]): number[] {
  const first = Math.min(...arrivals);
  const bins: number[] = [];
  for (const at of arrivals) {
    const bin = Math.floor((at - first) / 100);
    bins[bin] = (bins[bin] ?? 0) + 1;
  }
  return Array.from(bins, (n) => n ?? 0);
}

describe('the live part\'s paced load', () => {
  it('When it runs at 200 req/s, then no 100 ms holds much more than 20 requests, where autocannon\'s overallRate sends each second\'s budget at once', async () => {
    const { url, arrivals } = await recordingServer();
    const stop = new AbortController();
    const answers: number[] = [];
    setTimeout(() => stop.abort(), 2000);
    const sent = await runPacedLoad({ url, keys: ['1', '2', '3'], rate: 200, signal: stop.signal, onAnswer: (_at, _ms, status) => answers.push(status) });
    expect(sent).toBeGreaterThan(300);
    expect(answers).toHaveLength(sent);
    expect(answers.every((status) => status === 200)).toBe(true);
    // 20 per bin when steady. A client stalled for a while (a busy CI machine) sends what fell due at once, so a
    // bin or two may hold more; a burst per second would fill one bin in ten.
    const paced = per100ms(arrivals);
    expect(paced.filter((n) => n > 40).length, JSON.stringify(paced)).toBeLessThanOrEqual(2);

    // The same rate through autocannon, for contrast: its second's budget arrives together.
    arrivals.length = 0;
    await new Promise<void>((resolve, reject) =>
      autocannon({ url: `${url}/users/1`, connections: 10, overallRate: 200, duration: 2 }, (error) => (error ? reject(error) : resolve())),
    );
    const bursts = per100ms(arrivals);
    expect(Math.max(...bursts), JSON.stringify(bursts)).toBeGreaterThan(60);
    expect(bursts.filter((n) => n > 40).length).toBeGreaterThanOrEqual(2);
  });

  it('When the server holds its answers for 400 ms, then requests keep going out at the rate and those due meanwhile count the wait', async () => {
    const { url, arrivals, hold } = await recordingServer();
    const stop = new AbortController();
    const latencies: number[] = [];
    const started = performance.now();
    setTimeout(() => hold(performance.now() + 400), 500);
    setTimeout(() => stop.abort(), 1500);
    await runPacedLoad({ url, keys: ['1'], rate: 100, signal: stop.signal, onAnswer: (_at, ms) => latencies.push(ms) });
    // Sent while answers were held (the open loop does not wait for them): about 40 between 500 and 900 ms.
    expect(arrivals.filter((at) => at - started > 550 && at - started < 850).length).toBeGreaterThanOrEqual(20);
    expect(Math.max(...latencies)).toBeGreaterThanOrEqual(300);
  });
});
