// The backfill's pure parts: how the adaptive batch size moves, how throttle checks are combined and rate-limited,
// and what the progress line and summary say. No database.
import { describe, expect, it } from 'vitest';
import { ADAPTIVE_INITIAL, ADAPTIVE_MAX, ADAPTIVE_MIN, batchSizer } from '../../shared/backfill/batch-size.ts';
import { formatProgress, formatSummary } from '../../shared/backfill/progress.ts';
import { throttleChecks } from '../../shared/backfill/throttle.ts';

describe('adaptive batch size', () => {
  it('When batches finish far below the target time, then the size at most doubles per batch, up to the cap', () => {
    const sizer = batchSizer({ fixed: null, targetMs: 200 });
    const sizes = [sizer.current()];
    for (let i = 0; i < 8; i++) {
      sizer.record(sizer.current(), 1);
      sizes.push(sizer.current());
    }
    expect(sizes.slice(0, 4)).toEqual([ADAPTIVE_INITIAL, 2 * ADAPTIVE_INITIAL, 4 * ADAPTIVE_INITIAL, 8 * ADAPTIVE_INITIAL]);
    expect(sizes.at(-1)).toBe(ADAPTIVE_MAX);
  });

  it('When a batch takes longer than the target, then the size shrinks toward it, at most by half, never below the floor', () => {
    const sizer = batchSizer({ fixed: null, targetMs: 200 });
    sizer.record(1000, 250);
    expect(sizer.current()).toBe(800);
    sizer.record(800, 10_000);
    expect(sizer.current()).toBe(400);
    for (let i = 0; i < 10; i++) sizer.record(sizer.current(), 10_000);
    expect(sizer.current()).toBe(ADAPTIVE_MIN);
  });

  it('When the last batch of a range is short, then it says nothing about the rate and the size stays', () => {
    const sizer = batchSizer({ fixed: null, targetMs: 200 });
    sizer.record(10, 500);
    expect(sizer.current()).toBe(ADAPTIVE_INITIAL);
  });

  it('When the size is fixed, then timing never changes it, and a lock conflict halves it for the retry', () => {
    const sizer = batchSizer({ fixed: 300, targetMs: 200 });
    sizer.record(300, 1);
    sizer.record(300, 5000);
    expect(sizer.current()).toBe(300);
    expect(sizer.shrink()).toBe(150);
  });
});

describe('throttle checks', () => {
  it('When a check reports a reason, then it is returned, and the checks are not probed again within the interval', async () => {
    let probes = 0;
    let lag = 5000;
    const check = throttleChecks([null, async () => (probes++, lag > 1000 ? `replica lag ${lag} ms > 1000 ms` : null)], { everyMs: 60_000 });

    expect(await check()).toBe('replica lag 5000 ms > 1000 ms');
    lag = 0;
    expect(await check()).toBe('replica lag 5000 ms > 1000 ms');
    expect(probes).toBe(1);
  });

  it('When the interval has passed and the condition cleared, then the backfill may go on', async () => {
    let lag = 5000;
    const check = throttleChecks([async () => (lag > 1000 ? 'lagging' : null)], { everyMs: 0 });
    expect(await check()).toBe('lagging');
    lag = 10;
    expect(await check()).toBeNull();
  });
});

describe('progress output', () => {
  it('When a run is half done and throttled, then the line shows keys done of the range, rows changed, rate, the wait and the batch size', () => {
    const line = formatProgress({ runId: 4, direction: 'forward', rangeStart: 1, rangeEnd: 10_000, nextId: 5001, rowsChanged: 4990, keysThisProcess: 5000, elapsedMs: 2000, batchSize: 1000, throttle: 'replica lag 3000 ms > 1000 ms' });
    expect(line).toBe('backfill #4 forward: 5,000/10,000 keys (50.0%), 4,990 rows changed, 2,500 keys/s, waiting, batch 1,000 [throttled: replica lag 3000 ms > 1000 ms]');
  });

  it('When a resumed run ends, then the summary says where it resumed and what both processes did', () => {
    const summary = formatSummary({ runId: 2, direction: 'reverse', resumedFrom: 301, rangeStart: 1, rangeEnd: 1000, nextId: 1001, keys: 700, rowsChanged: 990, rowsChangedThisProcess: 690, batches: 12, retries: 1, elapsedMs: 1500, throttledMs: 0, interrupted: false });
    expect(summary.split('\n')[0]).toBe('backfill #2 reverse done (resumed at key 301)');
    expect(summary).toContain('700 keys in 1.5 s, 467 keys/s, 690 rows changed');
    expect(summary).toContain('990 rows changed in 12 batches, 1 retried');
  });
});
