// make bench, part `live`: what users feel while the backfill runs. A steady GET/PUT load (fixed rate) on one v2
// over a table of BENCH_LIVE_ROWS rows: p99 of the answers while the backfill runs with its default throttle
// against p99 before and after it, and the backfill's rate meanwhile. Goal: <= 1.3x in every round.
import { connectDatabase } from '../../../shared/db/connection.ts';
import { startInstanceProcess } from '../../infra/instance-process.ts';
import { timeBackfillProcess } from '../backfill.ts';
import type { BenchContext, BenchPart } from '../context.ts';
import { sleep } from '../context.ts';
import { atMost, fmt, rounded } from '../figures.ts';
import { median, percentile, runHttpLoad } from '../http-load.ts';
import { judged } from '../report.ts';
import { mapping } from '../../../shared/schema-mapping.ts';

export const livePart: BenchPart<BenchContext> = {
  name: 'live',
  what: (options) =>
    `steady GET/PUT load at ${options.liveRate} req/s on one v2: p99 during the backfill (default throttle, ${options.liveRows.toLocaleString('en-US')} rows) vs before and after it`,
  plannedSeconds: ({ liveRepeat, liveRows, seconds }) => liveRepeat * (liveRows / 100_000 + 2 * Math.max(2, seconds) + liveRows / 40_000 + 5),
  async measure({ options, log, raw, backfill, slowV2 }) {
    const { liveRepeat: repeat, liveRows: rows, liveRate, connections, poolMax, quietSeconds } = options;
    const window = Math.max(2, options.seconds);
    const database = `bench_live_${process.pid}`;
    const rounds: { baselineP99: number; duringP99: number; ratio: number; backfillMs: number; rowsPerSecond: number; answers: number; errors: number }[] = [];
    for (let round = 0; round < repeat; round++) {
      const table = await backfill.freshTable(database, rows, quietSeconds * 1000);
      const ids = await idsSample(table.url, rows);
      const instance = await startInstanceProcess('v2', { DATABASE_URL: table.url, DB_POOL_MAX: String(poolMax), LOG_LEVEL: 'warn', ...slowV2 }, { timeoutMs: 60_000 });
      try {
        const answers: { at: number; ms: number; ok: boolean }[] = [];
        const stop = new AbortController();
        const running = runHttpLoad({
          url: instance.url,
          operation: 'mix',
          keys: ids,
          seconds: 3600,
          connections: Math.min(connections, 10),
          rate: liveRate,
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
    raw.live = { rows, rate: liveRate, rounds };
    return [
      {
        key: 'p99DuringBackfillVsBaseline',
        figure: `p99 of a steady ${liveRate} req/s GET/PUT load, during the backfill (default throttle) vs without`,
        baseline: `without ${fmt(median(rounds.map((r) => r.baselineP99)), 1)} ms`,
        candidate: `during ${fmt(median(rounds.map((r) => r.duringP99)), 1)} ms`,
        ratio: median(rounds.map((r) => r.ratio)),
        ...judged(rounds.map((r) => r.ratio), atMost(1.3)),
        detail: { perRound: rounded(rounds.map((r) => r.ratio)) },
      },
      {
        key: 'backfillRateUnderLoad',
        figure: `backfill rate kept meanwhile (${rows.toLocaleString('en-US')} rows, process start included)`,
        baseline: '-',
        candidate: `${fmt(median(rounds.map((r) => r.rowsPerSecond)))} rows/s`,
        ratio: null,
        ...judged([], null),
      },
    ];
  },
};

/** About 5000 ids spread over the whole table (seeded ids may have gaps: bulk inserts reserve them in blocks). */
async function idsSample(url: string, rows: number): Promise<string[]> {
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    const every = Math.max(1, Math.floor(rows / 5000));
    const found = await db.select<Record<string, number | string>>(`SELECT ${mapping.keyColumn} FROM ${mapping.table} WHERE MOD(${mapping.keyColumn}, ${every}) = 0`);
    return found.map((r) => String(r[mapping.keyColumn]));
  } finally {
    await db.close();
  }
}
