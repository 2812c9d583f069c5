// make bench's settings (load/bench/options.ts): the default run is the ~5-minute one (4 ABBA rounds of 2 s, 200k backfill
// rows, no soak); BENCH_LONG=1 is the long one (8 rounds, 1M rows, the 10-minute memory soak).
import { describe, expect, it } from 'vitest';
import { benchOptions, OptionError } from '../../load/bench/options.ts';

describe('bench options', () => {
  it('When nothing is set, then 4 rounds of 2 s, 200k backfill rows, 15 s for InnoDB to go quiet, 2 live and 2 trigger rounds, every part but the soak and the trigger part (long mode), and no test-only slowdown', () => {
    const options = benchOptions({});
    expect(options).toMatchObject({ repeat: 4, seconds: 2, backfillRows: 200_000, quietSeconds: 15, backfillRepeat: 2, liveRepeat: 2, triggerRepeat: 2, liveBackfillSeconds: 15, long: false, testSlowV2Ms: 0, backfillArgs: [], liveBackfillArgs: [] });
    expect(options.parts.has('soak')).toBe(false);
    expect(options.parts.has('trigger')).toBe(false);
    expect(options.parts.has('memory')).toBe(true);
  });

  it('When BENCH_LONG=1, then 8 rounds of 3 s, 1M backfill rows, 30 s for InnoDB to go quiet and a 10-minute soak; explicit settings still win', () => {
    expect(benchOptions({ BENCH_LONG: '1' })).toMatchObject({ repeat: 8, seconds: 3, backfillRows: 1_000_000, quietSeconds: 30, backfillRepeat: 8, liveRepeat: 8, triggerRepeat: 8, liveBackfillSeconds: 0, long: true, soakSeconds: 600 });
    expect(benchOptions({ BENCH_REPEAT: '1' })).toMatchObject({ repeat: 1, backfillRepeat: 1, liveRepeat: 1, triggerRepeat: 1 });
    expect(benchOptions({ BENCH_LONG: '1' }).parts.has('soak')).toBe(true);
    expect(benchOptions({ BENCH_LONG: '1' }).parts.has('trigger')).toBe(true);
    expect(benchOptions({ BENCH_PARTS: 'trigger' }).parts).toEqual(new Set(['trigger']));
    expect(benchOptions({ BENCH_LONG: '1', BENCH_REPEAT: '6', BENCH_PARTS: 'memory' })).toMatchObject({ repeat: 6, parts: new Set(['memory']) });
  });

  it('When BENCH_BACKFILL_ARGS is set, then the backfill part passes those options after its --unthrottled, split on spaces', () => {
    expect(benchOptions({ BENCH_BACKFILL_ARGS: ' --workers 1  --target-batch-ms 50 ' }).backfillArgs).toEqual(['--workers', '1', '--target-batch-ms', '50']);
  });

  it('When BENCH_LONG or BENCH_TEST_SLOW_V2_MS is not a valid value, then an OptionError names it', () => {
    expect(() => benchOptions({ BENCH_LONG: 'yes' })).toThrow(OptionError);
    expect(() => benchOptions({ BENCH_LONG: 'yes' })).toThrow(/^BENCH_LONG must be 0 or 1/);
    expect(() => benchOptions({ BENCH_TEST_SLOW_V2_MS: '-5' })).toThrow(/^BENCH_TEST_SLOW_V2_MS must be an integer/);
  });
});
