// make bench: what dual-write and dual-read cost, measured side by side in one run on MySQL/MariaDB. Every figure
// is a ratio of two things measured in the same run, in ABBA order (forward in even rounds, backward in odd ones),
// on the same database, with the same pool size, connections and payloads (a shared, noisy machine makes absolute
// numbers meaningless), and is judged on CPU time per answered request of the serving processes (from /proc)
// beside throughput and p99. One file per part (parts/), run in this order:
//   write    v1 PUT vs v2 PUT per dual-write strategy (single, transaction, sequential)
//   read     v1 GET vs v2 GET at read-new 0%, 100% and with dual-read on
//   nginx    the same load through nginx (the demo's balancer) vs straight to the instances
//   memory   peak resident memory of one v2 under load, compiled as the image runs it (and with a heap cap)
//   soak     (BENCH_LONG=1) one compiled v2 under load for BENCH_SOAK_SECONDS (10 min): resident memory stays flat
//   trigger  (BENCH_LONG=1, or BENCH_PARTS=trigger) SYNC=trigger vs app: PUTs and a bulk UPDATE (no goal)
//   backfill the batched backfill vs one UPDATE of every row (the physical limit), unthrottled, on an idle table
//   live     p99 of a steady read/write load while the backfill runs at its default throttle vs without it
//   demo     `make demo` wall time (its latest summary), and its p99 drift (steps 3, 4, 7-10 vs step 2 at one pace, goal
//            <= 1.3x) over its latest 3 paced runs (make drift)
// Each figure has a spread (lowest and highest per-round value) and a verdict: pass (every round met the goal),
// fail (none did) or inconclusive (the spread straddles the goal, or the figure was not measured). A v2-vs-v1 goal
// (write, read) is judged on its spread widened by the noise of the part's A/A control, a second v1 (report.ts
// judgedWithControl): a goal finer than the machine's noise is inconclusive. nginx's A/A row widens nothing.
// Prints a table (figure, baseline, candidate, ratio, spread, goal, verdict) and writes RESULTS_DIR/bench.json.
//   BENCH_SECONDS=2 (each measurement; warm-ups are half) BENCH_REPEAT=4 BENCH_CONNECTIONS=20 DB_POOL_MAX=20
//   BENCH_BACKFILL_ROWS=200000 BENCH_BACKFILL_REPEAT=2 BENCH_LIVE_ROWS=200000 BENCH_LIVE_RATE=200 BENCH_LIVE_REPEAT=2 BENCH_QUIET_SECONDS=15
//   BENCH_LONG=1 (8 rounds of 3 s, 1M backfill rows, 30 s quiet waits, the soak) BENCH_SOAK_SECONDS=600
//   BENCH_PARTS=write,read,nginx,memory,soak,trigger,backfill,live,demo MYSQL_URL RESULTS_DIR
//   BENCH_TEST_SLOW_V2_MS: TEST ONLY, a v2 that burns that much CPU per request (app-v2/slow-requests.ts)
// Exit 0 when every goal passed; 1 when one failed, was inconclusive, or the bench could not finish (bench.json
// says which); 2 on a bad setting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { haltIfInterrupted, incompleteSummary, installInterruptHandling, onInterruptWriteResults, SIGNAL_GRACE_MS } from '../infra/cleanup.ts';
import { BackfillBench } from './backfill.ts';
import type { BenchContext, BenchPart, HttpContext } from './context.ts';
import { mb } from './figures.ts';
import { openHttpParts } from './http-parts.ts';
import type { HttpParts } from './http-parts.ts';
import { benchOptions, OptionError, PARTS } from './options.ts';
import type { BenchOptions } from './options.ts';
import { backfillPart } from './parts/backfill.ts';
import { demoPart } from './parts/demo.ts';
import { livePart } from './parts/live.ts';
import { memoryPart } from './parts/memory.ts';
import { nginxPart } from './parts/nginx.ts';
import { readPart } from './parts/read.ts';
import { soakPart } from './parts/soak.ts';
import { triggerPart } from './parts/trigger.ts';
import { writePart } from './parts/write.ts';
import { ProgressClock } from './progress.ts';
import { formatTable, judged, machine } from './report.ts';
import type { Figure } from './report.ts';

/** The parts that share one database and a v1 beside a v2, in the order they run. */
const HTTP_PARTS: BenchPart<HttpContext>[] = [writePart, readPart, nginxPart, memoryPart, soakPart, triggerPart];
/** The parts with databases of their own. */
const OTHER_PARTS: BenchPart<BenchContext>[] = [backfillPart, livePart, demoPart];

let options: BenchOptions;
try {
  options = benchOptions();
} catch (err) {
  if (!(err instanceof OptionError)) throw err;
  console.error(`bench: ${err.message}`);
  process.exit(2);
}
const { seconds, repeat, connections, poolMax, parts, resultsDir } = options;
// The bench measures the processes as the npm scripts run them (tsx), also when make test's smoke starts it with
// the compiled entry points on (load/infra/entry-points.ts); its compiled figures come from its own build.
delete process.env.COMPILED_ENTRY_POINTS;
// Ctrl-C, SIGTERM, SIGHUP: instances, balancers, backfill processes and the bench's databases are stopped and
// dropped (load/infra/cleanup.ts); bench.json keeps the figures measured so far, marked incomplete.
installInterruptHandling({ tool: 'bench', resultsDir });
// TEST ONLY (BENCH_TEST_SLOW_V2_MS): every v2 this bench starts burns that much CPU per request.
const slowV2: Record<string, string> = options.testSlowV2Ms > 0 ? { FAULT_INJECT: 'slow-requests', FAULT_SLOW_MS: String(options.testSlowV2Ms) } : {};
const TEST_BANNER = `TEST ONLY: every v2 burns ${options.testSlowV2Ms} ms of CPU per request (BENCH_TEST_SLOW_V2_MS); these figures are not a measurement of the code`;
if (options.testSlowV2Ms > 0) console.log(`!!! ${TEST_BANNER}`);
if (repeat % 2 === 1 && repeat > 1) console.log(`bench: BENCH_REPEAT=${repeat} is odd: the first contender of each comparison is measured first once more often than the others`);

const httpRuns = HTTP_PARTS.some((part) => parts.has(part.name));
const clock = new ProgressClock({
  setup: httpRuns ? 8 : 0,
  ...Object.fromEntries([...HTTP_PARTS, ...OTHER_PARTS].map((part) => [part.name, parts.has(part.name) ? part.plannedSeconds(options) : 0])),
});
const { log } = clock;

const figures: Figure[] = [];
const raw: Record<string, unknown> = {};
onInterruptWriteResults((signal) => {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, 'bench.json');
  const bench = { generatedAt: new Date().toISOString(), settings: { seconds, repeat, connections, poolMax, parts: [...parts] }, ...incompleteSummary(signal, clock.current ?? 'setup'), figures, raw };
  fs.writeFileSync(file, `${JSON.stringify(bench, null, 2)}\n`);
  return `bench: ${figures.length} figures measured before the interrupt, in ${path.relative(process.cwd(), file)} (marked incomplete)`;
});
let failure: string | null = null;
const backfill = await BackfillBench.connect(options.mysqlUrl);
const serverVersion = await backfill.serverVersion();
const host = machine(serverVersion);
const base: BenchContext = { options, log, raw, slowV2, backfill };
let http: HttpParts | undefined;

async function run<C extends BenchContext>(part: BenchPart<C>, context: C) {
  clock.start(part.name, part.what(options));
  figures.push(...(await part.measure(context)));
  clock.finish(part.name);
}

try {
  if (httpRuns) {
    clock.start('setup', `database and instances (DB_POOL_MAX=${poolMax} for every instance, ${connections} connections)`);
    http = await openHttpParts(base);
    clock.finish('setup');
    for (const part of HTTP_PARTS) if (parts.has(part.name)) await run(part, http.context);
    // The tsx instances (as `npm run start:vN` runs them) served the write, read and nginx parts.
    const tsx = http.tsxPeaks();
    raw.tsxMemory = tsx;
    await http.close();
    http = undefined;
    figures.push({
      key: 'rssTsxMb',
      figure: 'resident memory, peak, of the v2 above as `npm run start:v2` runs it (tsx: its loader is a thread of its own)',
      baseline: tsx.v1PeakMb === null ? '-' : `v1 ${mb(tsx.v1PeakMb)}`,
      candidate: `v2 ${mb(tsx.v2PeakMb)}`,
      ratio: null,
      ...judged([], null),
    });
  }
  for (const part of OTHER_PARTS) if (parts.has(part.name)) await run(part, base);
} catch (err) {
  // A part that failed because an interrupt is stopping its processes is not a failure to report.
  await haltIfInterrupted(SIGNAL_GRACE_MS);
  failure = (err as Error).stack ?? String(err);
  console.error(`\nbench: failed: ${(err as Error).message}`);
} finally {
  await http?.close().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
  await backfill.close().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
}

const value = (key: string) => figures.find((f) => f.key === key)?.ratio ?? null;
const missed = figures.filter((f) => f.verdict === 'fail');
const inconclusive = figures.filter((f) => f.verdict === 'inconclusive');
const rss = value('rssMb');
const bench = {
  generatedAt: new Date().toISOString(),
  ...(options.testSlowV2Ms > 0 ? { testOnly: TEST_BANNER } : {}),
  settings: {
    seconds,
    repeat,
    connections,
    poolMax,
    long: options.long,
    backfillRows: options.backfillRows,
    liveRows: options.liveRows,
    liveRate: options.liveRate,
    backfillRepeat: options.backfillRepeat,
    liveRepeat: options.liveRepeat,
    triggerRepeat: options.triggerRepeat,
    backfillArgs: ['--unthrottled', ...options.backfillArgs],
    liveBackfillArgs: options.liveBackfillArgs,
    soakSeconds: parts.has('soak') ? options.soakSeconds : null,
    testSlowV2Ms: options.testSlowV2Ms,
    parts: [...parts],
  },
  machine: { ...host, loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
  wallSeconds: Math.round(clock.elapsedSeconds()),
  partSeconds: clock.partSeconds(),
  failure,
  // The headline figures the issue names; the dual-read one is the worse of read-new 0% and 100% (the goal is on both).
  dualWriteVsV1: value('dualWriteVsV1'),
  dualWriteP99VsV1: value('dualWriteP99VsV1'),
  dualReadVsV1: figures.some((f) => f.key.startsWith('dualReadNew')) ? Math.min(value('dualReadNew0VsV1') ?? Infinity, value('dualReadNew100VsV1') ?? Infinity) : null,
  nginxVsDirect: value('nginxVsDirect'),
  backfillVsLimit: value('backfillVsLimit'),
  p99DuringBackfillVsBaseline: value('p99DuringBackfillVsBaseline'),
  rssMb: rss === null ? null : Number(rss.toFixed(1)),
  goalsMissed: missed.map((f) => f.key),
  goalsInconclusive: inconclusive.map((f) => f.key),
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
if (options.testSlowV2Ms > 0) console.log(`!!! ${TEST_BANNER}`);
console.log(
  `each figure: median over ${repeat} rounds in ABBA order of ${seconds} s (after a warm-up), ${connections} connections, DB_POOL_MAX=${poolMax} for every instance; ` +
    'spread = lowest-highest per-round value; pass = every round met the goal, FAIL = none did, inconclusive = some did (or not measured); ' +
    '"A/A ±N%: a-b" = the part\'s A/A control differed by up to N% in a round, and the goal is judged on the spread widened by that (a-b)\n',
);
console.log(formatTable(figures));
console.log(`\n${path.relative(process.cwd(), out)}; ${bench.wallSeconds} s in all (${Object.entries(bench.partSeconds).map(([part, s]) => `${part} ${s} s`).join(', ')})`);
if (failure) console.log('FAILED: the bench could not finish; see the error above.');
else {
  if (missed.length > 0) console.log(`${missed.length} goal(s) missed in every round: ${missed.map((f) => f.key).join(', ')}`);
  if (inconclusive.length > 0) console.log(`${inconclusive.length} goal(s) inconclusive (met in some rounds only, within the A/A control's noise, or not measured): ${inconclusive.map((f) => f.key).join(', ')}`);
  const notRun = PARTS.filter((part) => !parts.has(part));
  if (missed.length === 0 && inconclusive.length === 0) console.log(`every goal ${notRun.length ? `of the parts run (not run: ${notRun.join(', ')}) ` : ''}met in every round`);
}
process.exit(failure || missed.length > 0 || inconclusive.length > 0 ? 1 : 0);
