// make bench, part `live`: what users feel while the backfill runs. A steady GET/PUT load (open loop, evenly
// spaced arrivals at a fixed rate, latency from each request's due time: paced-load.ts) on one v2
// over a table of BENCH_LIVE_ROWS rows: p99 of the answers while the backfill runs with its default throttle
// against p99 before it, and the backfill's rate meanwhile. Goal: <= 1.3x in every round.
import { connectDatabase } from '../../../shared/db/connection.ts';
import { startInstanceProcess } from '../../infra/instance-process.ts';
import { filledRows, timeBackfillProcess } from '../backfill.ts';
import type { BenchContext, BenchPart } from '../context.ts';
import { sleep } from '../context.ts';
import { atMost, fmt, rounded } from '../figures.ts';
import { median, percentile } from '../http-load.ts';
import { runPacedLoad } from '../paced-load.ts';
import { judged } from '../report.ts';
import { mapping } from '../../../shared/schema-mapping.ts';

export const livePart: BenchPart<BenchContext> = {
  name: 'live',
  what: (options) =>
    `steady GET/PUT load at ${options.liveRate} req/s on one v2: p99 during the backfill (${options.liveBackfillArgs.length ? options.liveBackfillArgs.join(' ') : 'default throttle'}, ${options.liveRows.toLocaleString('en-US')} rows${options.liveBackfillSeconds > 0 ? `, its first ${options.liveBackfillSeconds} s` : ''}) vs before it`,
  // Seeding (~100k rows/s), the quiet wait (a few seconds), the windows, and the backfill (~2,700 rows/s throttled).
  plannedSeconds: ({ liveRepeat, liveRows, seconds, liveBackfillSeconds }) =>
    liveRepeat * (liveRows / 100_000 + 5 + Math.max(8, 2 * seconds) + 3 + 1 + (liveBackfillSeconds > 0 ? liveBackfillSeconds : liveRows / 2_700)),
  async measure({ options, log, raw, backfill, slowV2 }) {
    const { liveRepeat: repeat, liveRows: rows, liveRate, poolMax, quietSeconds, liveBackfillSeconds, liveBackfillArgs } = options;
    // The baseline: 8 s before the backfill (1,600 answers, so that its p99 is not the 8th-worst of 800), on a
    // server that has caught up with the seeding. Not after it: then InnoDB still flushes what the backfill
    // wrote (its redo log half full), and a baseline taken there was seen at 28 ms against 11-14 ms before.
    // The 3 s after are shown apart (the aftermath), not judged.
    const window = Math.max(8, 2 * options.seconds);
    const afterMs = 3000;
    const database = `bench_live_${process.pid}`;
    const rounds: { baselineP99: number; duringP99: number; afterP99: number; redoAtStart: number | null; readP99: { without: number; during: number }; writeP99: { without: number; during: number }; ratio: number; backfillMs: number; rowsPerSecond: number; processStartMs: number; filled: number; stopped: boolean; answers: number; errors: number }[] = [];
    for (let round = 0; round < repeat; round++) {
      const table = await backfill.freshTable(database, rows, quietSeconds * 1000);
      const ids = await idsSample(table.url, rows);
      const instance = await startInstanceProcess('v2', { DATABASE_URL: table.url, DB_POOL_MAX: String(poolMax), LOG_LEVEL: 'warn', ...slowV2 }, { timeoutMs: 60_000 });
      try {
        const answers: { at: number; ms: number; ok: boolean; write: boolean; status: number }[] = [];
        const stop = new AbortController();
        const running = runPacedLoad({
          url: instance.url,
          keys: ids,
          rate: liveRate,
          signal: stop.signal,
          onAnswer: (at, ms, status, write) => answers.push({ at, ms, ok: status >= 200 && status < 300, write, status }),
        });
        const loadStarted = performance.now();
        // The first second is the instance's own warm-up (JIT, pool): not part of either window.
        await sleep((window + 1) * 1000);
        // Where InnoDB's checkpoint age starts decides much of the figure (docs/performance.md): said with each round.
        const { redoFill: redoAtStart } = await backfill.innodbState();
        const spawnedAt = performance.now();
        const result = await timeBackfillProcess(table, liveBackfillArgs, liveBackfillSeconds > 0 ? { stopAfterMs: liveBackfillSeconds * 1000 } : {});
        const backfillEnded = performance.now();
        await sleep(afterMs);
        stop.abort();
        await running;
        const filled = await filledRows(table);
        // "During" starts with the backfill's first batch: the process's own start (tsx compiling TypeScript, about
        // 1.5 s of 1.3 cores here) is this one machine's doing, where the tool shares the app's two cores; in
        // production it runs on another host. That start is in neither window.
        const backfillStarted = result.workStartedAt ?? spawnedAt;
        const okAnswers = answers.filter((a) => a.ok);
        const duringAnswers = okAnswers.filter((a) => a.at >= backfillStarted && a.at <= backfillEnded);
        const outsideAnswers = okAnswers.filter((a) => a.at >= loadStarted + 1000 && a.at < spawnedAt);
        const afterAnswers = okAnswers.filter((a) => a.at > backfillEnded);
        const p99Of = (list: typeof okAnswers) => percentile(list.map((a) => a.ms), 0.99);
        const baselineP99 = p99Of(outsideAnswers);
        const duringP99 = p99Of(duringAnswers);
        // Reads and writes apart: a write waits for the redo log's flush, which the backfill's own commits share.
        const byKind = {
          readP99: { without: p99Of(outsideAnswers.filter((a) => !a.write)), during: p99Of(duringAnswers.filter((a) => !a.write)) },
          writeP99: { without: p99Of(outsideAnswers.filter((a) => a.write)), during: p99Of(duringAnswers.filter((a) => a.write)) },
        };
        const r = {
          baselineP99,
          duringP99,
          afterP99: p99Of(afterAnswers),
          redoAtStart,
          ...byKind,
          ratio: duringP99 / baselineP99,
          backfillMs: Math.round(result.ms),
          rowsPerSecond: Math.round((filled * 1000) / (backfillEnded - backfillStarted)),
          processStartMs: Math.round(backfillStarted - spawnedAt),
          filled,
          stopped: result.stopped,
          answers: answers.length,
          errors: answers.length - okAnswers.length,
        };
        rounds.push(r);
        log(
          `live round ${round + 1}/${repeat}: p99 ${fmt(baselineP99, 1)} ms before the backfill, ${fmt(duringP99, 1)} ms during it (${fmt(r.ratio, 2)}x), ${fmt(r.afterP99, 1)} ms in the ${afterMs / 1000} s after; ` +
            `GET ${fmt(byKind.readP99.without, 1)} -> ${fmt(byKind.readP99.during, 1)} ms, PUT ${fmt(byKind.writeP99.without, 1)} -> ${fmt(byKind.writeP99.during, 1)} ms; ` +
            `checkpoint age at the start ${redoAtStart === null ? 'unknown' : `${Math.round(redoAtStart)}% of its maximum`}; ` +
            `backfill ${((backfillEnded - backfillStarted) / 1000).toFixed(1)} s after a ${fmt(r.processStartMs)} ms start${result.stopped ? ` (interrupted: ${fmt(filled)} of ${fmt(rows)} rows filled)` : ''}, ${fmt(r.rowsPerSecond)} rows/s under load${r.errors ? `; ${r.errors} failed requests` : ''}`,
        );
        if (r.errors > 0) {
          // A user request the backfill made fail is a finding, not noise: say which, when, and what the instance logged.
          const when = (at: number) => (at < backfillStarted ? 'before the backfill' : at <= backfillEnded ? `${((at - backfillStarted) / 1000).toFixed(1)} s into the backfill` : 'after the backfill');
          const failed = answers.filter((a) => !a.ok).slice(0, 5).map((a) => `${a.write ? 'PUT' : 'GET'} ${a.status === 0 ? 'no answer (connection error or 10 s timeout)' : `HTTP ${a.status}`} after ${fmt(a.ms)} ms, ${when(a.at)}`);
          const logged = instance.output().split('\n').filter((line) => /"level":(4|5|6)0/.test(line)).slice(0, 5);
          throw new Error(`live: ${r.errors} of ${r.answers} requests failed in round ${round + 1}: ${failed.join('; ')}${logged.length ? `\ninstance warnings and errors:\n${logged.join('\n')}` : ' (the instance logged no warning or error)'}`);
        }
      } finally {
        await instance.stop();
      }
    }
    await backfill.dropAll();
    raw.live = { rows, rate: liveRate, rounds };
    return [
      {
        key: 'p99DuringBackfillVsBaseline',
        figure: `p99 of a steady ${liveRate} req/s GET/PUT load (open loop), during the backfill (${liveBackfillArgs.length ? liveBackfillArgs.join(' ') : 'default throttle'}) vs before it`,
        baseline: `before ${fmt(median(rounds.map((r) => r.baselineP99)), 1)} ms`,
        candidate: `during ${fmt(median(rounds.map((r) => r.duringP99)), 1)} ms`,
        ratio: median(rounds.map((r) => r.ratio)),
        ...judged(rounds.map((r) => r.ratio), atMost(1.3)),
        detail: { perRound: rounded(rounds.map((r) => r.ratio)) },
      },
      {
        key: 'backfillRateUnderLoad',
        figure: `backfill rate kept meanwhile (${liveBackfillArgs.length ? liveBackfillArgs.join(' ') : 'default throttle'}, ${rows.toLocaleString('en-US')} rows${liveBackfillSeconds > 0 ? `, the first ${liveBackfillSeconds} s` : ''})`,
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
