// make bench, part `memory`: peak resident memory of one v2 under the GET/PUT mix, compiled once with
// tsconfig.build.json and run with plain `node` (as the container image runs it), with V8's default heap and with
// a heap cap. Goal: <= 120 MB in every round (each round's own peak is judged); no compiled build or no /proc:
// inconclusive, never a silent pass. In the same rounds, the floor: a bare Express + mysql2 server under the same
// load (bare-server.ts), its peak and v2's CPU per request against it (no goal: what the stack itself costs).
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext } from '../context.ts';
import { httpPlan, loadOn } from '../context.ts';
import { cpuFigure, mb, rounded, throughputFigure } from '../figures.ts';
import { sampleResidentMemory } from '../http-load.ts';
import type { LoadRun } from '../http-load.ts';
import { judged } from '../report.ts';
import type { Figure } from '../report.ts';

// V8 grows its heap lazily under allocation pressure: the live set of an instance is ~30 MB, the rest is garbage
// not yet collected. These caps make it collect sooner (measured here: ~99 MB peak instead of ~145).
export const HEAP_CAP = ['--max-old-space-size=48', '--max-semi-space-size=2'];

export const memoryPart: BenchPart<HttpContext> = {
  name: 'memory',
  what: () => `resident memory of one v2 under GET/PUT load: compiled (as the image runs it), default V8 heap vs ${HEAP_CAP.join(' ')}`,
  plannedSeconds: (options) => httpPlan(options, 3) + 30,
  async measure(context) {
    const { fixture, writeIds, slowV2, options, log } = context;
    const built = await context.compiled();
    let runs: Record<string, LoadRun[]> = { plain: [], capped: [], bare: [] };
    const peaks: { compiledPeakMb: number | null; compiledCappedPeakMb: number | null; barePeakMb: number | null } = { compiledPeakMb: null, compiledCappedPeakMb: null, barePeakMb: null };
    if ('dist' in built) {
      const [plain, capped, bare] = await Promise.all([
        fixture.start('v2', slowV2, { dist: built.dist, nodeArgs: [] }),
        fixture.start('v2', slowV2, { dist: built.dist, nodeArgs: HEAP_CAP }),
        fixture.startBare(built.dist),
      ]);
      const plainMemory = sampleResidentMemory([plain.pid]);
      const cappedMemory = sampleResidentMemory([capped.pid]);
      const bareMemory = sampleResidentMemory([bare.pid]);
      runs = await alternate(
        'memory',
        [
          { name: 'plain', measure: loadOn(context, plain, 'mix', writeIds) },
          { name: 'capped', measure: loadOn(context, capped, 'mix', writeIds) },
          { name: 'bare', measure: loadOn(context, bare, 'mix', writeIds) },
        ],
        { repeat: options.repeat, seconds: options.seconds, log },
      );
      peaks.compiledPeakMb = plainMemory.stop();
      peaks.compiledCappedPeakMb = cappedMemory.stop();
      peaks.barePeakMb = bareMemory.stop();
      await Promise.all([plain.stop(), capped.stop(), bare.stop()]);
    }
    context.raw.memory = { heapCap: HEAP_CAP, runs, ...peaks, ...('skipped' in built ? { skipped: built.skipped } : {}) };
    // Judged on each round's peak (unmeasured rounds, or no build at all: inconclusive, never a silent pass).
    return [
      peakFigure('rssMb', 'resident memory, peak, of one v2 under GET/PUT load: compiled JS, plain `node` (as the image runs it)', runs.plain!, peaks.compiledPeakMb, 120),
      ...('dist' in built
        ? [
            throughputFigure(
              'rssCappedVsPlain',
              `the same with \`${HEAP_CAP.join(' ')}\`: throughput vs plain (peak ${mb(peaks.compiledCappedPeakMb)})`,
              { runs, contenders: ['plain', 'capped'], labels: ['plain', 'capped'] },
              null,
            ),
            cpuFigure('cpuCappedVsPlain', `the same capped: CPU per answered request vs plain`, { runs, contenders: ['plain', 'capped'], labels: ['plain', 'capped'] }, null),
            peakFigure('rssBareMb', "the floor: resident memory, peak, of a bare Express + mysql2 server doing v1's two statements (load/bench/bare-server.ts), same load and V8 defaults", runs.bare!, peaks.barePeakMb, null),
            cpuFigure('cpuV2VsBare', 'v2 (plain) against the bare server: CPU per answered request', { runs, contenders: ['bare', 'plain'], labels: ['bare', 'v2'] }, null),
          ]
        : []),
    ];
  },
};

/** A peak-memory figure in MB: each round's own peak (the spread, judged against `goalMb` when there is one), the whole run's as the value. */
function peakFigure(key: string, figure: string, rounds: LoadRun[], wholeRunPeakMb: number | null, goalMb: number | null): Figure {
  const perRound = rounds.map((r) => r.peakRssMb ?? Number.NaN);
  return {
    key,
    figure,
    baseline: '-',
    candidate: mb(wholeRunPeakMb),
    ratio: wholeRunPeakMb,
    ...judged(perRound, goalMb === null ? null : { atMost: goalMb, unit: ' MB' }),
    unit: 'MB',
    detail: { perRoundPeakMb: rounded(perRound), wholeRunPeakMb },
  };
}
