// make bench, part `soak` (the long mode, BENCH_LONG=1): one compiled v2 under the GET/PUT mix for
// BENCH_SOAK_SECONDS (10 minutes) in 10 windows. Resident memory must stay flat: each later window's peak within
// 1.1x of the first window's (the first holds the warm-up's growth), and the peak through the soak <= 120 MB.
import type { BenchPart, HttpContext } from '../context.ts';
import { loadOn } from '../context.ts';
import { atMost, fmt, mb, rounded } from '../figures.ts';
import { judged } from '../report.ts';

/** The soak is judged window by window: each window's peak resident memory against the first one's. */
const SOAK_WINDOWS = 10;

export const soakPart: BenchPart<HttpContext> = {
  name: 'soak',
  what: (options) => `one compiled v2 under the GET/PUT mix for ${options.soakSeconds} s: resident memory must stay flat`,
  plannedSeconds: (options) => options.soakSeconds + 30,
  async measure(context) {
    const { fixture, writeIds, slowV2, options, log } = context;
    const built = await context.compiled();
    const windows: number[] = [];
    if ('dist' in built) {
      const instance = await fixture.start('v2', slowV2, { dist: built.dist, nodeArgs: [] });
      const windowSeconds = options.soakSeconds / SOAK_WINDOWS;
      for (let window = 0; window < SOAK_WINDOWS; window++) {
        const run = await loadOn(context, instance, 'mix', writeIds)(windowSeconds);
        windows.push(run.peakRssMb ?? Number.NaN);
        log(`soak ${window + 1}/${SOAK_WINDOWS}: peak ${mb(run.peakRssMb)}, ${fmt(run.rps)} req/s`);
      }
      await instance.stop();
    }
    context.raw.soak = { seconds: options.soakSeconds, windowPeakMb: rounded(windows) };
    const growth = windows.slice(1).map((peak) => peak / windows[0]!);
    return [
      {
        key: 'soakRssGrowth',
        figure: `resident memory through a ${Math.round(options.soakSeconds / 60)}-minute soak: each later window's peak vs the first window's`,
        baseline: windows.length ? `first ${mb(windows[0]!)}` : '-',
        candidate: windows.length ? `last ${mb(windows.at(-1)!)}` : 'not measured',
        ratio: growth.length ? growth.at(-1)! : null,
        ...judged(growth, atMost(1.1)),
        detail: { windowPeakMb: rounded(windows) },
      },
      {
        key: 'soakRssMb',
        figure: 'resident memory, peak, through the soak',
        baseline: '-',
        candidate: windows.length ? mb(Math.max(...windows)) : 'not measured',
        ratio: windows.length ? Math.max(...windows) : null,
        ...judged(windows, { atMost: 120, unit: ' MB' }),
      },
    ];
  },
};
