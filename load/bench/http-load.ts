// The bench's HTTP load: autocannon against one URL (an instance or the balancer), PUTs or GETs of users that
// exist, every PUT with a fresh value, the same payload shape for v1 and v2. Throughput counts 2xx answers only;
// latency percentiles are computed from every answer's own time (autocannon's histogram rounds to whole ms).
import fs from 'node:fs';
import autocannon from 'autocannon';
import { mapping } from '../../shared/schema-mapping.ts';

export type Operation = 'put' | 'get' | 'mix';

export interface LoadRun {
  /** 2xx answers per second of the run. */
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, connection errors and timeouts together: a bench whose load fails is not a measurement. */
  errors: number;
  requests: number;
  seconds: number;
  /** CPU time the serving processes (`pids`) spent per answered request, in ms: far less noisy than throughput on a shared machine. */
  cpuMsPerRequest: number | null;
  /**
   * The user-mode part of cpuMsPerRequest: the processes' own code (JS, V8, the drivers). The rest is system time, the
   * kernel's work on their behalf, mostly the loopback sockets to the database and the load client (docs/performance.md).
   */
  userCpuMsPerRequest: number | null;
  /** Highest resident memory of the serving processes together (`pids`), sampled every 250 ms, in MB; null when unreadable. */
  peakRssMb: number | null;
}

export interface LoadOptions {
  url: string;
  operation: Operation;
  /** Keys of the users the load picks from, uniformly at random. */
  keys: string[];
  seconds: number;
  connections: number;
  /** Fixed total rate (requests/s) instead of as fast as possible: a steady load, as production traffic is. */
  rate?: number;
  /** Called with each answer's end time (performance.now()) and latency in ms; for windowed percentiles. */
  onAnswer?: (atMs: number, latencyMs: number, status: number) => void;
  signal?: AbortSignal;
  /** Processes whose CPU time is charged to this load (the instance serving it). */
  pids?: number[];
}

let writeCounter = 0;
const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A body the same length for every version, unique per write. */
export function putBody(): string {
  const tag = `b${runTag}-${++writeCounter}`;
  return JSON.stringify({ name: `bench ${tag}`, email: `${tag}@bench.example.test` });
}

export async function runHttpLoad(options: LoadOptions): Promise<LoadRun> {
  const { url, operation, keys, seconds, connections, rate, onAnswer, signal, pids = [] } = options;
  const cpuBefore = cpuTimes(pids);
  const memory = sampleResidentMemory(pids);
  if (keys.length === 0) throw new Error('runHttpLoad: no users to load');
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const paths = keys.map((key) => `${mapping.route}/${encodeURIComponent(key)}`);
  const pick = () => paths[Math.floor(Math.random() * paths.length)]!;
  let flip = false;
  let finish!: (result: { error?: Error; result?: autocannon.Result }) => void;
  const finished = new Promise<{ error?: Error; result?: autocannon.Result }>((resolve) => (finish = resolve));
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (request) => {
          const write = operation === 'put' || (operation === 'mix' && (flip = !flip));
          if (write) return { ...request, method: 'PUT', path: pick(), headers: { 'content-type': 'application/json' }, body: putBody() };
          return { ...request, method: 'GET', path: pick(), headers: {}, body: undefined };
        },
      },
    ],
  }, (error, result) => finish({ error: error ?? undefined, result }));
  instance.on('response', (_client: unknown, status: number, _bytes: number, latencyMs: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      latencies.push(latencyMs);
    } else errors++;
    onAnswer?.(performance.now(), latencyMs, status);
  });
  const stop = () => instance.stop();
  signal?.addEventListener('abort', stop, { once: true });
  const { error, result } = await finished;
  signal?.removeEventListener('abort', stop);
  if (error || !result) throw error ?? new Error('autocannon ended without a result');
  const cpuAfter = cpuTimes(pids);
  const peakRssMb = memory.stop();
  const ran = result.duration || seconds;
  return {
    rps: ok / ran,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: errors + result.errors,
    requests: ok + errors,
    seconds: ran,
    ...perRequest(cpuBefore, cpuAfter, ok + errors),
    peakRssMb,
  };
}

/**
 * The same load split by the client over several targets at once (the connections shared out as evenly as they
 * go, each target its own share): one LoadRun for the whole, throughput summed, percentiles over every answer,
 * CPU charged to `pids` (every target's processes) over the whole run.
 */
export async function runSplitHttpLoad(options: Omit<LoadOptions, 'url' | 'onAnswer' | 'rate'> & { urls: string[] }): Promise<LoadRun> {
  const { urls, connections, pids = [], ...rest } = options;
  if (urls.length === 0 || connections < urls.length) throw new Error(`runSplitHttpLoad: ${connections} connections cannot be split over ${urls.length} targets`);
  const cpuBefore = cpuTimes(pids);
  const memory = sampleResidentMemory(pids);
  const latencies: number[] = [];
  const runs = await Promise.all(
    urls.map((url, i) =>
      runHttpLoad({
        ...rest,
        url,
        connections: Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0),
        onAnswer: (_at, latencyMs, status) => {
          if (status >= 200 && status < 300) latencies.push(latencyMs);
        },
      }),
    ),
  );
  const cpuAfter = cpuTimes(pids);
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  return {
    rps: runs.reduce((sum, run) => sum + run.rps, 0),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    requests,
    seconds: Math.max(...runs.map((run) => run.seconds)),
    ...perRequest(cpuBefore, cpuAfter, requests),
    peakRssMb: memory.stop(),
  };
}

/** User and system CPU time of the processes together, in ms (Linux /proc, USER_HZ = 100); null when unreadable or none given. */
export function cpuTimes(pids: number[]): { userMs: number; systemMs: number } | null {
  if (pids.length === 0) return null;
  try {
    let user = 0;
    let system = 0;
    for (const pid of pids) {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      user += Number(fields[11]);
      system += Number(fields[12]);
    }
    return { userMs: user * 10, systemMs: system * 10 };
  } catch {
    return null;
  }
}

/** User + system CPU time of the processes, in ms; null when unreadable or none given. */
export function cpuMs(pids: number[]): number | null {
  const times = cpuTimes(pids);
  return times && times.userMs + times.systemMs;
}

type Times = ReturnType<typeof cpuTimes>;
function perRequest(before: Times, after: Times, requests: number): Pick<LoadRun, 'cpuMsPerRequest' | 'userCpuMsPerRequest'> {
  if (before === null || after === null || requests === 0) return { cpuMsPerRequest: null, userCpuMsPerRequest: null };
  const userMs = after.userMs - before.userMs;
  return { cpuMsPerRequest: (userMs + after.systemMs - before.systemMs) / requests, userCpuMsPerRequest: userMs / requests };
}

/** Resident memory of processes together in MB (Linux /proc), or null when one cannot be read (or none given). */
export function residentMb(pids: number[]): number | null {
  if (pids.length === 0) return null;
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) return null;
      kb += Number(match[1]);
    } catch {
      return null;
    }
  }
  return kb / 1024;
}

/** Samples the processes' resident memory every intervalMs; stop() returns the peak seen (null if never readable). */
export function sampleResidentMemory(pids: number[], intervalMs = 250): { stop(): number | null } {
  let peak: number | null = null;
  const sample = () => {
    const mb = residentMb(pids);
    if (mb !== null) peak = Math.max(peak ?? 0, mb);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Nearest-rank percentile (q in 0..1) of unsorted values; NaN for none. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
