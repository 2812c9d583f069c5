// make bench, part `memory`: peak resident memory of one v2 under the GET/PUT mix, compiled once with
// tsconfig.build.json and run with plain `node` at V8's default settings (as the container image runs it). Goal:
// <= 120 MB in every round (each round's own peak is judged); no compiled build or no /proc: inconclusive, never a
// silent pass. In the same rounds, the floor: a bare Express + mysql2 server under the same load
// (bare-server.ts), its peak and v2's CPU per request against it (no goal: what the stack itself costs). The
// rounds are seconds long; the steady state over minutes is the soak's (parts/soak.ts, the long mode).
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext } from '../context.ts';
import { httpPlan, loadOn } from '../context.ts';
import { cpuFigure, mb, rounded } from '../figures.ts';
import { sampleResidentMemory } from '../http-load.ts';
import type { LoadRun } from '../http-load.ts';
import { judged } from '../report.ts';
import type { Figure } from '../report.ts';

export const memoryPart: BenchPart<HttpContext> = {
  name: 'memory',
  what: () => 'resident memory of one v2 under GET/PUT load: compiled (as the image runs it), V8 defaults, beside the bare floor',
  plannedSeconds: (options) => httpPlan(options, 2) + 30,
  async measure(context) {
    const { fixture, writeIds, slowV2, options, log } = context;
    const built = await context.compiled();
    let runs: Record<string, LoadRun[]> = { plain: [], bare: [] };
    const peaks: { compiledPeakMb: number | null; barePeakMb: number | null } = { compiledPeakMb: null, barePeakMb: null };
    if ('dist' in built) {
      const [plain, bare] = await Promise.all([fixture.start('v2', slowV2, { dist: built.dist, nodeArgs: [] }), fixture.startBare(built.dist)]);
      const plainMemory = sampleResidentMemory([plain.pid]);
      const bareMemory = sampleResidentMemory([bare.pid]);
      runs = await alternate(
        'memory',
        [
          { name: 'plain', measure: loadOn(context, plain, 'mix', writeIds) },
          { name: 'bare', measure: loadOn(context, bare, 'mix', writeIds) },
        ],
        { repeat: options.repeat, seconds: options.seconds, log },
      );
      peaks.compiledPeakMb = plainMemory.stop();
      peaks.barePeakMb = bareMemory.stop();
      await Promise.all([plain.stop(), bare.stop()]);
    }
    context.raw.memory = { runs, ...peaks, ...('skipped' in built ? { skipped: built.skipped } : {}) };
    // Judged on each round's peak (unmeasured rounds, or no build at all: inconclusive, never a silent pass).
    return [
      peakFigure('rssMb', 'resident memory, peak, of one v2 under GET/PUT load: compiled JS, plain `node` (as the image runs it)', runs.plain!, peaks.compiledPeakMb, 120),
      ...('dist' in built
        ? [
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
