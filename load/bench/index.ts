// make bench: what dual-write and dual-read cost, measured side by side in one run on MySQL/MariaDB.
// Every figure is a ratio of two things measured in the same run, alternating, on the same database, with the
// same pool size, connections and payloads (a shared, noisy machine makes absolute numbers meaningless):
//   write    v1 PUT vs v2 PUT per dual-write strategy (single, transaction, sequential): throughput and p99
//   read     v1 GET vs v2 GET at read-new 0%, 100% and with shadow-compare on
//   nginx    the same load through nginx (the demo's balancer) vs straight to one instance
//   backfill the batched backfill vs one UPDATE of every row (the physical limit), unthrottled, on an idle table
//   live     p99 of a steady read/write load while the backfill runs at its default throttle vs without it
//   memory   peak resident memory of one v2 under load, compiled as the image runs it (and with a heap cap), and
//            as `npm run start:v2` runs it (tsx); `make demo` wall time from its latest summary
// Prints a table (figure, baseline, candidate, ratio, goal, result) and writes RESULTS_DIR/bench.json.
//   BENCH_SECONDS=3 (each measurement; warm-ups are half) BENCH_REPEAT=3 BENCH_CONNECTIONS=20 DB_POOL_MAX=20
//   BENCH_BACKFILL_ROWS=1000000 BENCH_LIVE_ROWS=200000 BENCH_LIVE_RATE=200 BENCH_QUIET_SECONDS=30 BENCH_PARTS=write,read,nginx,memory,backfill,live,demo
//   MYSQL_URL RESULTS_DIR
// Exit 0 when every goal is met, 1 when one is missed or the bench could not measure (bench.json says which),
// 2 on a bad setting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase } from '../../shared/db/connection.ts';
import { startBalancer } from '../balancer/index.ts';
import type { Balancer } from '../balancer/index.ts';
import { startInstanceProcess } from '../instances.ts';
import type { InstanceProcess } from '../instances.ts';
import { BackfillBench, backfillSummaryLines, timeBackfillProcess } from './backfill.ts';
import { alternate, medianOf, pairedRatio } from './compare.ts';
import { buildCompiled, HttpFixture, sampleResidentMemory } from './fixture.ts';
import { median, percentile, runHttpLoad } from './http-load.ts';
import type { LoadRun, Operation } from './http-load.ts';
import { benchOptions, OptionError } from './options.ts';
import type { BenchOptions } from './options.ts';
import { formatTable, machine, mmss } from './report.ts';
import type { Figure } from './report.ts';

let options: BenchOptions;
try {
  options = benchOptions();
} catch (err) {
  if (!(err instanceof OptionError)) throw err;
  console.error(`bench: ${err.message}`);
  process.exit(2);
}
const { seconds, repeat, connections, poolMax, parts, resultsDir } = options;

// ---- progress: every line says how long the bench has run and, from the plan, about how long is left
const started = performance.now();
const httpPart = (contenders: number) => contenders * (Math.max(0.5, seconds / 2) + repeat * seconds) + contenders * 0.5 * (repeat + 1);
// Seeding, quiet waits and the two timed runs, at rates seen on a 2-core MariaDB 10.11 (about 100k rows/s seeded, 70k rows/s updated).
const backfillPart = () => repeat * 2 * (options.backfillRows / 100_000 + options.backfillRows / 70_000 + 3);
const livePart = () => repeat * (options.liveRows / 100_000 + 2 * Math.max(2, seconds) + options.liveRows / 40_000 + 5);
const plan: Record<string, number> = {
  setup: parts.has('write') || parts.has('read') || parts.has('nginx') || parts.has('memory') ? 8 : 0,
  write: parts.has('write') ? httpPart(4) : 0,
  read: parts.has('read') ? httpPart(4) : 0,
  nginx: parts.has('nginx') ? httpPart(3) + 2 : 0,
  memory: parts.has('memory') ? httpPart(2) + 30 : 0,
  backfill: parts.has('backfill') ? backfillPart() : 0,
  live: parts.has('live') ? livePart() : 0,
};
// ETA: the plan of the parts still to run, scaled by how much slower than planned the finished parts were (a
// busy machine seeds and updates more slowly), less what the current part has used.
const spent: Record<string, number> = {};
let currentPart: string | undefined;
let partStartedAt = 0;
const startPart = (part: string, what: string) => {
  currentPart = part;
  partStartedAt = performance.now();
  log(`== ${part}: ${what}`);
};
const finishPart = (part: string) => {
  spent[part] = (performance.now() - partStartedAt) / 1000;
  currentPart = undefined;
};
function log(line: string) {
  const finished = Object.keys(spent);
  const plannedDone = finished.reduce((sum, part) => sum + plan[part]!, 0);
  const slowdown = plannedDone > 0 ? Math.max(0.5, finished.reduce((sum, part) => sum + spent[part]!, 0) / plannedDone) : 1;
  const inCurrent = currentPart ? (performance.now() - partStartedAt) / 1000 : 0;
  const left = Object.entries(plan).reduce((sum, [part, s]) => {
    if (part in spent) return sum;
    return sum + (part === currentPart ? Math.max(0, s * slowdown - inCurrent) : s * slowdown);
  }, 0);
  console.log(`[${mmss(performance.now() - started)} elapsed, ~${mmss(left * 1000)} left] ${line}`);
}

const figures: Figure[] = [];
const raw: Record<string, unknown> = {};
const memory: Record<'v1PeakMb' | 'v2PeakMb' | 'compiledPeakMb' | 'compiledCappedPeakMb', number | null> = { v1PeakMb: null, v2PeakMb: null, compiledPeakMb: null, compiledCappedPeakMb: null };
// V8 grows its heap lazily under allocation pressure: the live set of an instance is ~30 MB, the rest is garbage
// not yet collected. These caps make it collect sooner (measured here: ~99 MB peak instead of ~145).
const HEAP_CAP = ['--max-old-space-size=48', '--max-semi-space-size=2'];
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const mb = (value: number | null) => (value === null ? 'not readable (/proc)' : `${value.toFixed(0)} MB`);
let failure: string | null = null;
const backfill = await BackfillBench.connect(options.mysqlUrl);
const serverVersion = await backfill.serverVersion();
const host = machine(serverVersion);
let fixture: HttpFixture | undefined;
const balancers: Balancer[] = [];

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const rps = (run: LoadRun) => run.rps;
const p99 = (run: LoadRun) => run.p99;

function throughputFigure(key: string, figure: string, runs: Record<string, LoadRun[]>, baseline: string, candidate: string, goal: number | null, labels: [string, string]): Figure {
  const ratio = pairedRatio(runs[baseline]!, runs[candidate]!, rps);
  return {
    key,
    figure,
    baseline: `${labels[0]} ${fmt(medianOf(runs[baseline]!, rps))} req/s`,
    candidate: `${labels[1]} ${fmt(medianOf(runs[candidate]!, rps))} req/s`,
    ratio: ratio.median,
    goal: goal === null ? '-' : `>= ${goal}x`,
    pass: goal === null ? null : ratio.median >= goal,
    detail: { perRound: ratio.perRound.map((r) => Number(r.toFixed(3))) },
  };
}

function p99Figure(key: string, figure: string, runs: Record<string, LoadRun[]>, baseline: string, candidate: string, goal: number | null, labels: [string, string]): Figure {
  const ratio = pairedRatio(runs[baseline]!, runs[candidate]!, p99);
  return {
    key,
    figure,
    baseline: `${labels[0]} p99 ${fmt(medianOf(runs[baseline]!, p99), 1)} ms`,
    candidate: `${labels[1]} p99 ${fmt(medianOf(runs[candidate]!, p99), 1)} ms`,
    ratio: ratio.median,
    goal: goal === null ? '-' : `<= ${goal}x`,
    pass: goal === null ? null : ratio.median <= goal,
    detail: { perRound: ratio.perRound.map((r) => Number(r.toFixed(3))) },
  };
}

const load = (target: { url: string; pids: () => number[] } | { url: string; pid: number }, operation: Operation, userIds: number[]) => (s: number) =>
  runHttpLoad({ url: target.url, operation, userIds, seconds: s, connections, pids: 'pid' in target ? [target.pid] : target.pids() });

/** A balancer and what serves behind it, for CPU accounting: nginx's worker processes (children of its master) and the instances. */
const behind = (balancer: Balancer, instances: InstanceProcess[]) => ({
  url: balancer.url,
  pids: () => [...(balancer.kind === 'nginx' ? childPids(balancer.pid) : []), ...instances.map((i) => i.pid)],
});

/** Instance CPU time per request, candidate vs baseline: what the code costs, whatever else the machine runs. */
function cpuFigure(key: string, figure: string, runs: Record<string, LoadRun[]>, baseline: string, candidate: string, labels: [string, string]): Figure {
  const cpu = (run: LoadRun) => run.cpuMsPerRequest ?? Number.NaN;
  const ratio = pairedRatio(runs[baseline]!, runs[candidate]!, cpu);
  return {
    key,
    figure,
    baseline: `${labels[0]} ${fmt(medianOf(runs[baseline]!, cpu), 3)} ms/req`,
    candidate: `${labels[1]} ${fmt(medianOf(runs[candidate]!, cpu), 3)} ms/req`,
    ratio: Number.isFinite(ratio.median) ? ratio.median : null,
    goal: '-',
    pass: null,
    detail: { perRound: ratio.perRound.map((r) => Number(r.toFixed(3))) },
  };
}

try {
  // ---------------------------------------------------------------- HTTP parts: one database, instances side by side
  if (parts.has('write') || parts.has('read') || parts.has('nginx') || parts.has('memory')) {
    startPart('setup', `database and instances (DB_POOL_MAX=${poolMax} for every instance, ${connections} connections)`);
    fixture = await HttpFixture.create(options.mysqlUrl, poolMax);
    // Writes and reads use separate users: a v1 PUT leaves profile_data stale, which would turn the reads at
    // read-new 100% into fallbacks and measure something else.
    const writeIds = await fixture.seedUsers(1000, 'write');
    const readIds = await fixture.seedUsers(1000, 'read');
    await fixture.setFlags({ 'read-new-percent': 0, 'shadow-compare': false });
    const [v1, v2] = await Promise.all([fixture.start('v1'), fixture.start('v2', { DUAL_WRITE_STRATEGY: 'single' })]);
    const v1Memory = sampleResidentMemory(v1.pid);
    const v2Memory = sampleResidentMemory(v2.pid);
    finishPart('setup');

    if (parts.has('write')) {
      startPart('write', 'v1 PUT vs v2 PUT per dual-write strategy');
      const [v2Transaction, v2Sequential] = await Promise.all([
        fixture.start('v2', { DUAL_WRITE_STRATEGY: 'transaction' }),
        fixture.start('v2', { DUAL_WRITE_STRATEGY: 'sequential' }),
      ]);
      const runs = await alternate(
        'write',
        [
          { name: 'v1', measure: load(v1, 'put', writeIds) },
          { name: 'single', measure: load(v2, 'put', writeIds) },
          { name: 'transaction', measure: load(v2Transaction, 'put', writeIds) },
          { name: 'sequential', measure: load(v2Sequential, 'put', writeIds) },
        ],
        { repeat, seconds, log },
      );
      raw.write = runs;
      await Promise.all([v2Transaction.stop(), v2Sequential.stop()]);
      figures.push(
        throughputFigure('dualWriteVsV1', 'PUT throughput, v2 dual-write `single` (default) vs v1', runs, 'v1', 'single', 0.95, ['v1', 'v2 single']),
        p99Figure('dualWriteP99VsV1', 'PUT p99 latency, v2 `single` vs v1', runs, 'v1', 'single', 1.1, ['v1', 'v2 single']),
        throughputFigure('dualWriteTransactionVsV1', 'PUT throughput, v2 `transaction` vs v1', runs, 'v1', 'transaction', null, ['v1', 'v2 transaction']),
        p99Figure('dualWriteTransactionP99VsV1', 'PUT p99 latency, v2 `transaction` vs v1', runs, 'v1', 'transaction', null, ['v1', 'v2 transaction']),
        throughputFigure('dualWriteSequentialVsV1', 'PUT throughput, v2 `sequential` (the seed\'s) vs v1', runs, 'v1', 'sequential', null, ['v1', 'v2 sequential']),
        p99Figure('dualWriteSequentialP99VsV1', 'PUT p99 latency, v2 `sequential` vs v1', runs, 'v1', 'sequential', null, ['v1', 'v2 sequential']),
        cpuFigure('dualWriteCpuVsV1', 'PUT instance CPU per request, v2 `single` vs v1', runs, 'v1', 'single', ['v1', 'v2 single']),
      );
      finishPart('write');
    }

    if (parts.has('read')) {
      startPart('read', 'v1 GET vs v2 GET at read-new 0%, 100%, and with shadow compare');
      const probe = readIds[0]!;
      const readsFrom = (flags: { 'read-new-percent': number; 'shadow-compare': boolean }, source: string) => async () => {
        await fixture!.setFlags(flags);
        // The bench measures what it claims only if v2 answers from the column it says.
        const answer = await fetch(`${v2.url}/users/${probe}`);
        const got = answer.headers.get('x-read-source');
        if (answer.status !== 200 || got !== source) throw new Error(`read bench: v2 answered ${answer.status} from ${got} with ${JSON.stringify(flags)}, expected ${source}`);
      };
      const runs = await alternate(
        'read',
        [
          { name: 'v1', measure: load(v1, 'get', readIds) },
          { name: 'new0', prepare: readsFrom({ 'read-new-percent': 0, 'shadow-compare': false }, 'old'), measure: load(v2, 'get', readIds) },
          { name: 'new100', prepare: readsFrom({ 'read-new-percent': 100, 'shadow-compare': false }, 'new'), measure: load(v2, 'get', readIds) },
          { name: 'shadow', prepare: readsFrom({ 'read-new-percent': 0, 'shadow-compare': true }, 'old'), measure: load(v2, 'get', readIds) },
        ],
        { repeat, seconds, log },
      );
      raw.read = runs;
      await fixture.setFlags({ 'read-new-percent': 0, 'shadow-compare': false });
      figures.push(
        throughputFigure('dualReadNew0VsV1', 'GET throughput, v2 at read-new 0% vs v1', runs, 'v1', 'new0', 0.95, ['v1', 'v2 0%']),
        throughputFigure('dualReadNew100VsV1', 'GET throughput, v2 at read-new 100% vs v1', runs, 'v1', 'new100', 0.95, ['v1', 'v2 100%']),
        throughputFigure('shadowCompareVsV1', 'GET throughput, v2 with shadow-compare vs v1', runs, 'v1', 'shadow', null, ['v1', 'v2 shadow']),
        p99Figure('dualReadNew0P99VsV1', 'GET p99 latency, v2 at read-new 0% vs v1', runs, 'v1', 'new0', null, ['v1', 'v2 0%']),
        p99Figure('dualReadNew100P99VsV1', 'GET p99 latency, v2 at read-new 100% vs v1', runs, 'v1', 'new100', null, ['v1', 'v2 100%']),
        p99Figure('shadowCompareP99VsV1', 'GET p99 latency, v2 with shadow-compare vs v1', runs, 'v1', 'shadow', null, ['v1', 'v2 shadow']),
        cpuFigure('dualReadNew0CpuVsV1', 'GET instance CPU per request, v2 at read-new 0% vs v1', runs, 'v1', 'new0', ['v1', 'v2 0%']),
        cpuFigure('dualReadNew100CpuVsV1', 'GET instance CPU per request, v2 at read-new 100% vs v1', runs, 'v1', 'new100', ['v1', 'v2 100%']),
      );
      finishPart('read');
    }

    if (parts.has('nginx')) {
      startPart('nginx', 'GET/PUT mix through nginx vs straight to one v2 instance, same connections');
      const v2b = await fixture.start('v2', { DUAL_WRITE_STRATEGY: 'single' });
      const upstream = (i: InstanceProcess) => `127.0.0.1:${i.port}`;
      const overTwo = await startBalancer({ upstreams: [upstream(v2), upstream(v2b)] });
      balancers.push(overTwo);
      const overOne = await startBalancer({ upstreams: [upstream(v2)] });
      balancers.push(overOne);
      const runs = await alternate(
        'nginx',
        [
          { name: 'direct', measure: load(v2, 'mix', writeIds) },
          { name: 'two', measure: load(behind(overTwo, [v2, v2b]), 'mix', writeIds) },
          { name: 'one', measure: load(behind(overOne, [v2]), 'mix', writeIds) },
        ],
        { repeat, seconds, log },
      );
      raw.nginx = { balancer: overTwo.kind, runs };
      figures.push(
        throughputFigure('nginxVsDirect', `GET/PUT throughput through ${overTwo.kind} (2 v2 instances, as the demo) vs direct to one`, runs, 'direct', 'two', 0.9, ['direct', `${overTwo.kind} x2`]),
        throughputFigure('nginxOneUpstreamVsDirect', `GET/PUT throughput through ${overOne.kind} to the same one instance vs direct`, runs, 'direct', 'one', null, ['direct', `${overOne.kind} x1`]),
        p99Figure('nginxP99VsDirect', `GET/PUT p99 latency through ${overTwo.kind} (2 instances) vs direct`, runs, 'direct', 'two', null, ['direct', `${overTwo.kind} x2`]),
        cpuFigure('nginxCpuVsDirect', `GET/PUT CPU per request, ${overOne.kind} + the instance vs the instance alone`, runs, 'direct', 'one', ['instance', `${overOne.kind} + instance`]),
      );
      finishPart('nginx');
    }

    memory.v1PeakMb = v1Memory.stop();
    memory.v2PeakMb = v2Memory.stop();
    await Promise.all(balancers.splice(0).map((b) => b.stop()));

    if (parts.has('memory')) {
      startPart('memory', `resident memory of one v2 under GET/PUT load: compiled (as the image runs it), default V8 heap vs ${HEAP_CAP.join(' ')}`);
      const built = await buildCompiled(ROOT, fs.mkdtempSync(path.join(os.tmpdir(), 'bench-build-')));
      if ('skipped' in built) {
        log(`memory: no compiled build (${built.skipped}); only the tsx instance's figure`);
        raw.memory = { skipped: built.skipped };
      } else {
        const [plain, capped] = await Promise.all([
          fixture.start('v2', {}, { dist: built.dir, nodeArgs: [] }),
          fixture.start('v2', {}, { dist: built.dir, nodeArgs: HEAP_CAP }),
        ]);
        const plainMemory = sampleResidentMemory(plain.pid);
        const cappedMemory = sampleResidentMemory(capped.pid);
        const runs = await alternate(
          'memory',
          [
            { name: 'plain', measure: load(plain, 'mix', writeIds) },
            { name: 'capped', measure: load(capped, 'mix', writeIds) },
          ],
          { repeat, seconds, log },
        );
        memory.compiledPeakMb = plainMemory.stop();
        memory.compiledCappedPeakMb = cappedMemory.stop();
        await Promise.all([plain.stop(), capped.stop()]);
        fs.rmSync(path.dirname(built.dir), { recursive: true, force: true });
        raw.memory = { heapCap: HEAP_CAP, runs, ...memory };
        const cappedRatio = pairedRatio(runs.plain!, runs.capped!, rps);
        figures.push(
          {
            key: 'rssMb',
            figure: 'resident memory, peak, of one v2 under GET/PUT load: compiled JS, plain `node` (as the image runs it)',
            baseline: '-',
            candidate: mb(memory.compiledPeakMb),
            ratio: null,
            goal: '< 100 MB',
            pass: memory.compiledPeakMb === null ? null : memory.compiledPeakMb < 100,
          },
          {
            key: 'rssCappedMb',
            figure: `the same with \`${HEAP_CAP.join(' ')}\`: peak memory, and its throughput vs plain`,
            baseline: `plain ${fmt(medianOf(runs.plain!, rps))} req/s`,
            candidate: `${mb(memory.compiledCappedPeakMb)}, ${fmt(medianOf(runs.capped!, rps))} req/s`,
            ratio: cappedRatio.median,
            goal: '-',
            pass: null,
            detail: { perRound: cappedRatio.perRound.map((r) => Number(r.toFixed(3))) },
          },
        );
      }
      finishPart('memory');
    }
    await fixture.close();
    fixture = undefined;
    figures.push({
      key: 'rssTsxMb',
      figure: 'resident memory, peak, of the v2 above as `npm run start:v2` runs it (tsx: its loader is a thread of its own)',
      baseline: memory.v1PeakMb === null ? '-' : `v1 ${mb(memory.v1PeakMb)}`,
      candidate: `v2 ${mb(memory.v2PeakMb)}`,
      ratio: null,
      goal: '-',
      pass: null,
    });
  }

  // ---------------------------------------------------------------- backfill vs the physical limit
  if (parts.has('backfill')) {
    const rows = options.backfillRows;
    startPart('backfill', `batched backfill (process, default options) vs one UPDATE, ${rows.toLocaleString('en-US')} rows, fresh table each time`);
    const database = `bench_backfill_${process.pid}`;
    const rounds: { oneStatementMs: number; backfillMs: number; ratio: number; loadAverage: number[]; backfillSaid: string[] }[] = [];
    const quiet: boolean[] = [];
    for (let round = 0; round < repeat; round++) {
      let oneStatementMs = 0;
      let backfillMs = 0;
      let backfillSaid: string[] = [];
      const one = async () => {
        const table = await backfill.freshTable(database, rows, options.quietSeconds * 1000);
        oneStatementMs = await backfill.timeOneStatement(table);
        quiet.push(table.quiet);
        log(`backfill round ${round + 1}/${repeat}: one UPDATE ${(oneStatementMs / 1000).toFixed(2)} s (${fmt((rows * 1000) / oneStatementMs)} rows/s)${notQuiet(table.quiet)}`);
      };
      const batched = async () => {
        const table = await backfill.freshTable(database, rows, options.quietSeconds * 1000);
        const result = await timeBackfillProcess(table);
        quiet.push(table.quiet);
        const missing = await backfill.missing(table);
        if (missing !== 0) throw new Error(`the backfill left ${missing} rows without profile_data`);
        backfillMs = result.ms;
        backfillSaid = backfillSummaryLines(result.output);
        log(`backfill round ${round + 1}/${repeat}: cli/backfill.ts ${(backfillMs / 1000).toFixed(2)} s (${fmt((rows * 1000) / backfillMs)} rows/s, process start included)${notQuiet(table.quiet)}`);
      };
      for (const measure of round % 2 === 0 ? [one, batched] : [batched, one]) await measure();
      rounds.push({ oneStatementMs, backfillMs, ratio: oneStatementMs / backfillMs, loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))), backfillSaid });
    }
    await backfill.dropAll();
    raw.backfill = { rows, rounds, serverQuietBeforeEach: quiet };
    const ratio = median(rounds.map((r) => r.ratio));
    figures.push({
      key: 'backfillVsLimit',
      figure: `backfill rows/s, batched (cli/backfill.ts) vs one UPDATE, ${rows.toLocaleString('en-US')} rows`,
      baseline: `one UPDATE ${fmt(median(rounds.map((r) => (rows * 1000) / r.oneStatementMs)))} rows/s`,
      candidate: `batched ${fmt(median(rounds.map((r) => (rows * 1000) / r.backfillMs)))} rows/s`,
      ratio,
      goal: '>= 0.8x',
      pass: ratio >= 0.8,
      detail: { perRound: rounds.map((r) => Number(r.ratio.toFixed(3))), serverQuietBeforeEach: quiet },
    });
    finishPart('backfill');
  }

  // ---------------------------------------------------------------- live p99 while the backfill runs
  if (parts.has('live')) {
    const rows = options.liveRows;
    const window = Math.max(2, seconds);
    startPart('live', `steady GET/PUT load at ${options.liveRate} req/s on one v2: p99 during the backfill (default throttle, ${rows.toLocaleString('en-US')} rows) vs before and after it`);
    const database = `bench_live_${process.pid}`;
    const rounds: { baselineP99: number; duringP99: number; ratio: number; backfillMs: number; rowsPerSecond: number; answers: number; errors: number }[] = [];
    for (let round = 0; round < repeat; round++) {
      const table = await backfill.freshTable(database, rows, options.quietSeconds * 1000);
      const ids = await idsSample(table.url, rows);
      const instance = await startInstanceProcess('v2', { DATABASE_URL: table.url, DB_POOL_MAX: String(poolMax), LOG_LEVEL: 'warn' }, { timeoutMs: 60_000 });
      try {
        const answers: { at: number; ms: number; ok: boolean }[] = [];
        const stop = new AbortController();
        const running = runHttpLoad({
          url: instance.url,
          operation: 'mix',
          userIds: ids,
          seconds: 3600,
          connections: Math.min(connections, 10),
          rate: options.liveRate,
          signal: stop.signal,
          onAnswer: (at, ms, status) => answers.push({ at, ms, ok: status >= 200 && status < 300 }),
        });
        const loadStarted = performance.now();
        // The first second is the instance's own warm-up (JIT, pool): not part of either window.
        await sleep((window + 1) * 1000);
        const backfillStarted = performance.now();
        const result = await timeBackfillProcess(table);
        const backfillEnded = performance.now();
        await sleep(window * 1000);
        stop.abort();
        await running;
        const okAnswers = answers.filter((a) => a.ok);
        const during = okAnswers.filter((a) => a.at >= backfillStarted && a.at <= backfillEnded).map((a) => a.ms);
        const outside = okAnswers.filter((a) => (a.at >= loadStarted + 1000 && a.at < backfillStarted) || a.at > backfillEnded).map((a) => a.ms);
        const baselineP99 = percentile(outside, 0.99);
        const duringP99 = percentile(during, 0.99);
        const r = {
          baselineP99,
          duringP99,
          ratio: duringP99 / baselineP99,
          backfillMs: Math.round(result.ms),
          rowsPerSecond: Math.round((rows * 1000) / result.ms),
          answers: answers.length,
          errors: answers.length - okAnswers.length,
        };
        rounds.push(r);
        log(
          `live round ${round + 1}/${repeat}: p99 ${fmt(baselineP99, 1)} ms without the backfill, ${fmt(duringP99, 1)} ms during it (${fmt(r.ratio, 2)}x); ` +
            `backfill ${(result.ms / 1000).toFixed(1)} s, ${fmt(r.rowsPerSecond)} rows/s under load${r.errors ? `; ${r.errors} failed requests` : ''}`,
        );
        if (r.errors > 0) throw new Error(`live: ${r.errors} requests failed during the backfill round`);
      } finally {
        await instance.stop();
      }
    }
    await backfill.dropAll();
    raw.live = { rows, rate: options.liveRate, rounds };
    const ratio = median(rounds.map((r) => r.ratio));
    figures.push(
      {
        key: 'p99DuringBackfillVsBaseline',
        figure: `p99 of a steady ${options.liveRate} req/s GET/PUT load, during the backfill (default throttle) vs without`,
        baseline: `without ${fmt(median(rounds.map((r) => r.baselineP99)), 1)} ms`,
        candidate: `during ${fmt(median(rounds.map((r) => r.duringP99)), 1)} ms`,
        ratio,
        goal: '<= 1.5x',
        pass: ratio <= 1.5,
        detail: { perRound: rounds.map((r) => Number(r.ratio.toFixed(3))) },
      },
      {
        key: 'backfillRateUnderLoad',
        figure: `backfill rate kept meanwhile (${rows.toLocaleString('en-US')} rows, process start included)`,
        baseline: '-',
        candidate: `${fmt(median(rounds.map((r) => r.rowsPerSecond)))} rows/s`,
        ratio: null,
        goal: '-',
        pass: null,
      },
    );
    finishPart('live');
  }

  // ---------------------------------------------------------------- make demo wall time (from its latest summary)
  if (parts.has('demo')) {
    const file = path.join(resultsDir, 'demo-summary.json');
    let candidate = `not measured: run make demo first (no ${path.relative(process.cwd(), file)})`;
    let wallSeconds: number | null = null;
    if (fs.existsSync(file)) {
      const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { wallSeconds?: number; database?: string; scenario?: string; passed?: boolean };
      const when = fs.statSync(file).mtime.toISOString().slice(0, 16).replace('T', ' ');
      wallSeconds = typeof summary.wallSeconds === 'number' ? summary.wallSeconds : null;
      candidate =
        wallSeconds === null
          ? `not in ${path.relative(process.cwd(), file)} (written before the demo recorded it)`
          : `${wallSeconds.toFixed(0)} s (${summary.scenario ?? '?'}, ${summary.database ?? '?'}, ${summary.passed ? 'passed' : 'failed'}, ${when} UTC)`;
    }
    raw.demo = { summary: file, wallSeconds };
    figures.push({ key: 'demoWallSeconds', figure: '`make demo` wall time (its latest results/demo-summary.json)', baseline: '-', candidate, ratio: null, goal: '-', pass: null });
  }
} catch (err) {
  failure = (err as Error).stack ?? String(err);
  console.error(`\nbench: failed: ${(err as Error).message}`);
} finally {
  await Promise.all(balancers.map((b) => b.stop().catch(() => {})));
  await fixture?.close().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
  await backfill.close().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
}

const value = (key: string) => figures.find((f) => f.key === key)?.ratio ?? null;
const missed = figures.filter((f) => f.pass === false);
const bench = {
  generatedAt: new Date().toISOString(),
  settings: { seconds, repeat, connections, poolMax, backfillRows: options.backfillRows, liveRows: options.liveRows, liveRate: options.liveRate, parts: [...parts] },
  machine: { ...host, loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
  wallSeconds: Math.round((performance.now() - started) / 1000),
  failure,
  // The headline figures the issue names; the dual-read one is the worse of read-new 0% and 100% (the goal is on both).
  dualWriteVsV1: value('dualWriteVsV1'),
  dualWriteP99VsV1: value('dualWriteP99VsV1'),
  dualReadVsV1: figures.some((f) => f.key.startsWith('dualReadNew')) ? Math.min(value('dualReadNew0VsV1') ?? Infinity, value('dualReadNew100VsV1') ?? Infinity) : null,
  nginxVsDirect: value('nginxVsDirect'),
  backfillVsLimit: value('backfillVsLimit'),
  p99DuringBackfillVsBaseline: value('p99DuringBackfillVsBaseline'),
  rssMb: memory.compiledPeakMb === null ? null : Number(memory.compiledPeakMb.toFixed(1)),
  goalsMissed: missed.map((f) => f.key),
  figures,
  raw,
};
fs.mkdirSync(resultsDir, { recursive: true });
const out = path.join(resultsDir, 'bench.json');
fs.writeFileSync(out, `${JSON.stringify(bench, null, 2)}\n`);

console.log(`\n${'='.repeat(100)}`);
console.log(
  `make bench: ${host.cores} cores (${host.cpu}), Node ${host.node}, ${serverVersion}; load average ${host.loadAverageAtStart.join(' ')} at start, ` +
    `${bench.machine.loadAverageAtEnd.join(' ')} at end`,
);
console.log(`each figure: median over ${repeat} alternating rounds of ${seconds} s (after a warm-up), ${connections} connections, DB_POOL_MAX=${poolMax} for every instance\n`);
console.log(formatTable(figures));
console.log(`\n${path.relative(process.cwd(), out)}; ${bench.wallSeconds} s in all`);
if (failure) console.log('FAILED: the bench could not finish; see the error above.');
else if (missed.length > 0) console.log(`${missed.length} goal(s) missed: ${missed.map((f) => f.key).join(', ')}`);
else console.log('every goal met');
process.exit(failure || missed.length > 0 ? 1 : 0);

/** A process's children (Linux /proc): nginx's workers, which do its work, are children of the master we started. */
function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function notQuiet(quiet: boolean): string {
  return quiet ? '' : ' [the server was not quiet before it: other clients kept InnoDB busy]';
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** About 5000 ids spread over the whole table (seeded ids may have gaps: bulk inserts reserve them in blocks). */
async function idsSample(url: string, rows: number): Promise<number[]> {
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    const every = Math.max(1, Math.floor(rows / 5000));
    const found = await db.select<{ id: number }>(`SELECT id FROM users WHERE MOD(id, ${every}) = 0`);
    return found.map((r) => Number(r.id));
  } finally {
    await db.close();
  }
}
