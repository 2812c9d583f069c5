// make bench, part `backfill`: the batched backfill (cli/backfill.ts as a process, timed from its first batch to
// its exit; --unthrottled: no rest between batches, no redo wait, two batches in flight, plus BENCH_BACKFILL_ARGS)
// on an otherwise idle table against one `UPDATE users SET profile_data = JSON_OBJECT(...)` (the
// physical limit), each from a freshly seeded table after InnoDB went quiet, the order alternating per round.
// Goal: >= 0.9x of the one statement's rate in every round (BENCH_BACKFILL_REPEAT rounds: 2 by default, 8 long).
import os from 'node:os';
import { backfillSummaryLines, timeBackfillProcess } from '../backfill.ts';
import type { BenchContext, BenchPart } from '../context.ts';
import { atLeast, fmt, rounded } from '../figures.ts';
import { median } from '../http-load.ts';
import { judged } from '../report.ts';
import { columns } from '../../../shared/schema-mapping.ts';

// Seeding, quiet waits and the two timed runs, at rates seen on a 2-core MariaDB 10.11 (about 100k rows/s seeded, 70k rows/s updated).
export const backfillPart: BenchPart<BenchContext> = {
  name: 'backfill',
  what: (options) => `batched backfill (process, ${['--unthrottled', ...options.backfillArgs].join(' ')}) vs one UPDATE, ${options.backfillRows.toLocaleString('en-US')} rows, fresh table each time`,
  plannedSeconds: ({ backfillRepeat, backfillRows }) => backfillRepeat * 2 * (backfillRows / 100_000 + backfillRows / 70_000 + 3),
  async measure({ options, log, raw, backfill }) {
    const { backfillRepeat: repeat, backfillRows: rows, quietSeconds } = options;
    const database = `bench_backfill_${process.pid}`;
    const rounds: { oneStatementMs: number; backfillMs: number; processStartMs: number; ratio: number; loadAverage: number[]; backfillSaid: string[] }[] = [];
    const quiet: boolean[] = [];
    for (let round = 0; round < repeat; round++) {
      let oneStatementMs = 0;
      let backfillMs = 0;
      let processStartMs = 0;
      let backfillSaid: string[] = [];
      const one = async () => {
        const table = await backfill.freshTable(database, rows, quietSeconds * 1000);
        oneStatementMs = await backfill.timeOneStatement(table);
        quiet.push(table.quiet);
        log(`backfill round ${round + 1}/${repeat}: one UPDATE ${(oneStatementMs / 1000).toFixed(2)} s (${fmt((rows * 1000) / oneStatementMs)} rows/s)${notQuiet(table.quiet)}`);
      };
      const batched = async () => {
        const table = await backfill.freshTable(database, rows, quietSeconds * 1000);
        const result = await timeBackfillProcess(table, ['--unthrottled', ...options.backfillArgs]);
        quiet.push(table.quiet);
        const missing = await backfill.missing(table);
        if (missing !== 0) throw new Error(`the backfill left ${missing} rows without ${columns.new}`);
        // From its first batch to its exit, as the one UPDATE is timed from its statement (its client connected
        // before): the process start (node, tsx compiling TypeScript, imports, connecting: ~1.5 s here, a third of
        // the whole at 200,000 rows) is the same whatever the table's size, and is shown apart.
        if (result.workStartedAt === null) throw new Error(`cli/backfill.ts never said it started a run:\n${result.output}`);
        backfillMs = result.ms - (result.workStartedAt - result.spawnedAt);
        processStartMs = result.workStartedAt - result.spawnedAt;
        backfillSaid = backfillSummaryLines(result.output);
        log(
          `backfill round ${round + 1}/${repeat}: cli/backfill.ts ${['--unthrottled', ...options.backfillArgs].join(' ')} ${(backfillMs / 1000).toFixed(2)} s (${fmt((rows * 1000) / backfillMs)} rows/s) ` +
            `after a ${fmt(processStartMs)} ms process start${notQuiet(table.quiet)}`,
        );
      };
      for (const measure of round % 2 === 0 ? [one, batched] : [batched, one]) await measure();
      rounds.push({ oneStatementMs, backfillMs, processStartMs: Math.round(processStartMs), ratio: oneStatementMs / backfillMs, loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))), backfillSaid });
    }
    await backfill.dropAll();
    raw.backfill = { rows, rounds, serverQuietBeforeEach: quiet };
    return [
      {
        key: 'backfillVsLimit',
        figure: `backfill rows/s, batched (cli/backfill.ts ${['--unthrottled', ...options.backfillArgs].join(' ')}, from its first batch) vs one UPDATE, ${rows.toLocaleString('en-US')} rows`,
        baseline: `one UPDATE ${fmt(median(rounds.map((r) => (rows * 1000) / r.oneStatementMs)))} rows/s`,
        candidate: `batched ${fmt(median(rounds.map((r) => (rows * 1000) / r.backfillMs)))} rows/s`,
        ratio: median(rounds.map((r) => r.ratio)),
        ...judged(rounds.map((r) => r.ratio), atLeast(0.9)),
        detail: { perRound: rounded(rounds.map((r) => r.ratio)), processStartMs: rounds.map((r) => r.processStartMs), serverQuietBeforeEach: quiet },
      },
    ];
  },
};

function notQuiet(quiet: boolean): string {
  // Often the bench's own writes: 200,000 rows leave more dirty pages than InnoDB flushes in BENCH_QUIET_SECONDS.
  return quiet ? '' : ' [InnoDB was still flushing or purging when the quiet wait ended: earlier writes, the bench\'s own or another client\'s]';
}
