// npm run bench:backfill -- [--rows N] [--repeat K] [-- backfill options...]     (MYSQL_URL, RESULTS_DIR)
// The backfill part of `make bench` on its own, with the backfill's options passed through: for each repeat,
// on a freshly seeded table each time, one UPDATE of every row (the physical limit), then cli/backfill.ts as a
// process, unthrottled, on the otherwise idle database. Prints both rates and their ratio (goal: >= 0.8x) and
// writes RESULTS_DIR/bench-backfill.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BackfillBench, backfillSummaryLines, timeBackfillProcess } from './backfill.ts';
import { median } from './http-load.ts';
import { columns } from '../../shared/schema-mapping.ts';

const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/';
const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');

const { values, positionals } = (() => {
  try {
    return parseArgs({ options: { rows: { type: 'string' }, repeat: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`bench-backfill: ${(err as Error).message.split('. ')[0]}`);
    process.exit(2);
  }
})();
const positiveInteger = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    console.error(`bench-backfill: --${name} must be a positive integer (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return Number(raw);
};
const rows = positiveInteger('rows', values.rows, 1_000_000);
const repeat = positiveInteger('repeat', values.repeat, 1);
const backfillArgs = positionals;
const rate = (ms: number) => Math.round((rows * 1000) / ms);

const bench = await BackfillBench.connect(MYSQL_URL);
const database = `bench_backfill_${process.pid}`;
// The load average goes into the results: on a shared machine, another process's CPU use slows the batched run
// (many short statements) more than the single one, and a ratio means little without it.
const runs: { oneStatementMs: number; backfillMs: number; ratio: number; loadAverage: number[] }[] = [];
try {
  for (let i = 1; i <= repeat; i++) {
    const oneStatementMs = await bench.timeOneStatement(await bench.freshTable(database, rows));
    const table = await bench.freshTable(database, rows);
    const { ms: backfillMs, output } = await timeBackfillProcess(table, backfillArgs);
    const missing = await bench.missing(table);
    if (missing !== 0) throw new Error(`the backfill left ${missing} rows without ${columns.new}`);
    const ratio = oneStatementMs / backfillMs;
    const loadAverage = os.loadavg().map((value) => Number(value.toFixed(2)));
    runs.push({ oneStatementMs: Math.round(oneStatementMs), backfillMs: Math.round(backfillMs), ratio: Number(ratio.toFixed(3)), loadAverage });
    console.log(backfillSummaryLines(output).join('\n'));
    console.log(
      `run ${i}/${repeat}: one UPDATE ${(oneStatementMs / 1000).toFixed(2)} s (${rate(oneStatementMs).toLocaleString('en-US')} rows/s); ` +
        `backfill process ${(backfillMs / 1000).toFixed(2)} s (${rate(backfillMs).toLocaleString('en-US')} rows/s): ${ratio.toFixed(2)}x (load average ${loadAverage.join(' ')})`,
    );
  }
  const medianRatio = median(runs.map((r) => r.ratio));
  const summary = { rows, repeat, backfillArgs, server: await bench.serverVersion(), runs, medianRatio, goal: 0.8, met: medianRatio >= 0.8 };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'bench-backfill.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`median ratio ${medianRatio.toFixed(2)}x of one UPDATE (goal >= 0.8x): ${summary.met ? 'met' : 'NOT met'}; ${path.join(RESULTS_DIR, 'bench-backfill.json')}`);
  process.exitCode = summary.met ? 0 : 1;
} finally {
  await bench.close();
}
