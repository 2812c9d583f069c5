// The bench's verdict rules, on constructed spreads: a goal is met only when every round met it, missed only when
// no round met it, and anything else (including nothing measured) is inconclusive, which make bench never
// reports as a pass.
import { describe, expect, it } from 'vitest';
import { DEMO_FLAT_STEPS, demoDriftOverRuns, demoP99Drift, demoRateRange, formatTable, judge, judged, judgedWithControl, noiseFactor, spreadOf } from '../../load/bench/report.ts';
import type { DemoRun } from '../../load/rollout/demo-runs.ts';
import type { Figure } from '../../load/bench/report.ts';

describe('bench verdicts', () => {
  it('When every round of an at-least goal is at or above it, then pass; when every round is below, then fail; when the spread straddles it, then inconclusive', () => {
    const goal = { atLeast: 0.95, unit: 'x' } as const;
    expect(judge([0.95, 1.2], goal)).toBe('pass');
    expect(judge([0.5, 0.94], goal)).toBe('fail');
    expect(judge([0.9, 1.1], goal)).toBe('inconclusive');
  });

  it('When every round of an at-most goal is at or below it, then pass; when every round is above, then fail; when the spread straddles it, then inconclusive', () => {
    const goal = { atMost: 1.1, unit: 'x' } as const;
    expect(judge([0.8, 1.1], goal)).toBe('pass');
    expect(judge([1.11, 3], goal)).toBe('fail');
    expect(judge([1.0, 1.2], goal)).toBe('inconclusive');
    expect(judge([130, 131], { atMost: 120, unit: ' MB' })).toBe('fail');
  });

  it('When a figure was not measured (no rounds, or a round without a number), then it is inconclusive, never a pass', () => {
    expect(spreadOf([])).toBeNull();
    expect(spreadOf([1, Number.NaN])).toBeNull();
    expect(judge(null, { atLeast: 0.95, unit: 'x' })).toBe('inconclusive');
    expect(judged([], { atMost: 120, unit: ' MB' })).toEqual({ spread: null, goal: '<= 120 MB', verdict: 'inconclusive' });
  });

  it('When a figure has no goal, then it has no verdict but keeps its spread', () => {
    expect(judged([0.6, 0.5, 0.7], null)).toEqual({ spread: [0.5, 0.7], goal: '-', verdict: null });
  });

  describe('beside an A/A control (the same code measured twice in each round)', () => {
    const cpuGoal = { atMost: 1.05, unit: 'x' } as const;
    /** The A/A GET control of the 3 Dec evening run: a second v1 measured 0.74x-1.00x of v1. */
    const wide = { name: 'v1 again vs v1', perRound: [0.74, 0.93, 1.0, 0.85] };
    const tight = { name: 'v1 again vs v1', perRound: [0.99, 1.01, 1.0, 1.0] };

    it('When the control differed by 0.74x-1.00x, then its noise factor is 1.35 (the larger of 1.00 and 1/0.74), and a control that measured nothing has none', () => {
      expect(noiseFactor(wide.perRound)).toBeCloseTo(1 / 0.74, 6);
      expect(noiseFactor([1.02, 1.1])).toBeCloseTo(1.1, 6);
      expect(noiseFactor([1, 1])).toBe(1);
      expect(noiseFactor([])).toBeNull();
      expect(noiseFactor([1, Number.NaN])).toBeNull();
    });

    it('When every round is within a 5% goal but identical code differed by 35% in the same rounds, then the figure is inconclusive, not a pass by luck', () => {
      const perRound = [0.97, 1.02, 1.0, 0.99];
      expect(judged(perRound, cpuGoal).verdict).toBe('pass');

      const figure = judgedWithControl(perRound, cpuGoal, wide);

      expect(figure.verdict).toBe('inconclusive');
      expect(figure.spread).toEqual([0.97, 1.02]);
      expect(figure.noise!.judgedOn![0]).toBeCloseTo(0.97 * 0.74, 6);
      expect(figure.noise!.judgedOn![1]).toBeCloseTo(1.02 / 0.74, 6);
      expect(figure.noise).toMatchObject({ control: 'v1 again vs v1', perRound: wide.perRound, factor: 1.351 });
    });

    it('When every round misses a 5% goal by less than the control\'s noise, then the figure is inconclusive, not a fail', () => {
      expect(judged([1.1, 1.18], cpuGoal).verdict).toBe('fail');
      expect(judgedWithControl([1.1, 1.18], cpuGoal, wide).verdict).toBe('inconclusive');
    });

    it('When the candidate is slower than the control\'s noise can explain (every round above 1.05 x 1.35), then it still fails', () => {
      expect(judgedWithControl([2.0, 2.6], cpuGoal, wide).verdict).toBe('fail');
      expect(judgedWithControl([0.5, 0.6], { atLeast: 0.9, unit: 'x' }, wide).verdict).toBe('fail');
    });

    it('When the control is tight (within 1%), then a figure well inside the goal passes and one well outside it fails', () => {
      expect(judgedWithControl([0.9, 1.02], cpuGoal, tight).verdict).toBe('pass');
      expect(judgedWithControl([1.1, 1.2], cpuGoal, tight).verdict).toBe('fail');
      expect(judgedWithControl([0.95, 1.0], { atLeast: 0.9, unit: 'x' }, tight).verdict).toBe('pass');
    });

    it('When the control measured nothing in a round, then the figure is inconclusive however good its own rounds', () => {
      expect(judgedWithControl([1.0, 1.0], cpuGoal, { name: 'v1 again vs v1', perRound: [1, Number.NaN] })).toMatchObject({ verdict: 'inconclusive', spread: [1, 1], noise: { factor: null, judgedOn: null } });
    });

    it('When a figure without a goal has a control, then it has no verdict, and its table cell shows its own spread only', () => {
      const figure: Figure = { key: 'p99', figure: 'p99', baseline: '-', candidate: '-', ratio: 1, ...judgedWithControl([0.9, 1.1], null, wide) };
      expect(figure.verdict).toBeNull();
      expect(formatTable([figure])).toMatch(/\| p99 +\| - +\| - +\| 1\.00x +\| 0\.90x–1\.10x +\| - +\| - +\|/);
    });

    it('When the table is printed, then a figure judged beside its control shows its spread, the control\'s noise and the widened spread the verdict is on', () => {
      const figure: Figure = { key: 'cpu', figure: 'cpu', baseline: '-', candidate: '-', ratio: 1, ...judgedWithControl([0.97, 1.02], cpuGoal, wide) };
      const unmeasured: Figure = { ...figure, key: 'cpu2', figure: 'cpu2', ...judgedWithControl([0.97, 1.02], cpuGoal, { name: 'x', perRound: [] }) };
      const table = formatTable([figure, unmeasured]);
      expect(table).toMatch(/\| cpu +\| - +\| - +\| 1\.00x +\| 0\.97x–1\.02x, A\/A ±35%: 0\.72x–1\.38x +\| <= 1\.05x +\| inconclusive +\|/);
      expect(table).toMatch(/\| cpu2 +\| .*\| 0\.97x–1\.02x, A\/A not measured +\| <= 1\.05x +\| inconclusive +\|/);
    });
  });

  it('When the table is printed, then each row shows its spread and verdict, and an unmeasured figure says so', () => {
    const row = (key: string, perRound: number[], goal: Parameters<typeof judged>[1]): Figure => ({ key, figure: key, baseline: '-', candidate: '-', ratio: perRound[0] ?? null, ...judged(perRound, goal) });
    const table = formatTable([row('straddles', [0.9, 1.1], { atLeast: 0.95, unit: 'x' }), row('memory', [], { atMost: 120, unit: ' MB' }), row('slow', [0.1, 0.2], { atLeast: 0.95, unit: 'x' })]);
    expect(table).toMatch(/\| straddles +\| - +\| - +\| 0\.90x +\| 0\.90x–1\.10x +\| >= 0\.95x +\| inconclusive +\|/);
    expect(table).toMatch(/\| memory +\| - +\| - +\| - +\| not measured +\| <= 120 MB +\| inconclusive +\|/);
    expect(table).toMatch(/\| slow .*\| FAIL +\|/);
  });

  it('When an absolute figure in MB has no goal (the bare server\'s peak), then its spread is printed in MB, not as a ratio', () => {
    const floor: Figure = { key: 'rssBareMb', figure: 'floor', baseline: '-', candidate: '128 MB', ratio: 127.8, ...judged([105.9, 128.1], null), unit: 'MB' };
    expect(formatTable([floor])).toMatch(/\| floor +\| - +\| 128 MB +\| - +\| 106 MB–128 MB +\| - +\| - +\|/);
  });

  it('When the p99 drift figure names its steps, then each is a step the demo labels in its summary (from the step files), step 4 included', () => {
    expect(DEMO_FLAT_STEPS).toEqual(['2-dual-write', '3-cross-version', '4-dual-read', '7-verify', '8-read-shift', '9-live', '10-new-only']);
  });

  it("When a demo summary has every step without churn or backfill, then each one's p99 is judged against step 2's; when one is missing (an anti-pattern run), then nothing is", () => {
    const steps = [
      { step: '0-base', p99: 500 },
      { step: '2-dual-write', p99: 50 },
      { step: '3-cross-version', p99: 55 },
      { step: '4-dual-read', p99: 50 },
      { step: '5-retire-v1', p99: 400 },
      { step: '6-backfill', p99: 300 },
      { step: '7-verify', p99: 60 },
      { step: '8-read-shift', p99: 75 },
      { step: '9-live', p99: 100 },
      { step: '10-new-only', p99: 45 },
    ];

    const drift = demoP99Drift(steps)!;

    expect(drift).toEqual({ '3-cross-version': 1.1, '4-dual-read': 1, '7-verify': 1.2, '8-read-shift': 1.5, '9-live': 2, '10-new-only': 0.9 });
    expect(judged([Math.max(...Object.values(drift))], { atMost: 1.3, unit: 'x' }).verdict).toBe('fail');
    expect(demoP99Drift(steps.filter((s) => s.step !== '9-live'))).toBeNull();
    expect(demoP99Drift(steps.map((s) => (s.step === '2-dual-write' ? { ...s, p99: null } : s)))).toBeNull();
  });

  /** A finished demo paced at 300/s whose flat steps have step 2's p99 and rate, and one later step at `worst` times its p99. */
  const demoRun = (worst: number, over: Partial<DemoRun> = {}): DemoRun => ({
    at: '2026-12-02T23:00:00Z',
    scenario: 'rollout',
    database: 'sqlite',
    passed: true,
    wallSeconds: 70,
    rate: 300,
    steps: DEMO_FLAT_STEPS.map((step, i) => ({ step, p99: i === 0 ? 20 : i === 3 ? 20 * worst : 20, perSecond: 300 })),
    ...over,
  });
  /** The same demo with one flat step (8-read-shift) serving `share` of the pace (300/s). */
  const slowStep = (run: DemoRun, share: number): DemoRun => ({ ...run, steps: run.steps.map((s, i) => (i === 4 ? { ...s, perSecond: 300 * share } : s)) });

  it('When the latest 3 rollout demos drifted 1.1x, 1.2x and 1.25x, then the figure is their median with that spread, and passes', () => {
    const drift = demoDriftOverRuns([demoRun(2.5), demoRun(1.1), demoRun(1.25), demoRun(1.2)]);

    expect(drift.perRun.map((r) => Number(r.ratio.toFixed(2)))).toEqual([1.1, 1.25, 1.2]);
    expect(drift.perRun[0]!.step).toBe(DEMO_FLAT_STEPS[3]);
    expect(drift).toMatchObject({ database: 'sqlite', spread: [1.1, 1.25], goal: '<= 1.3x', verdict: 'pass' });
  });

  it('When one of the 3 drifted past 1.3x, then inconclusive; when all did, fail', () => {
    expect(demoDriftOverRuns([demoRun(1.1), demoRun(1.4), demoRun(1.2)]).verdict).toBe('inconclusive');
    expect(demoDriftOverRuns([demoRun(1.5), demoRun(1.4), demoRun(1.6)]).verdict).toBe('fail');
  });

  it('When fewer than 3 rollout demos ran on the latest one\'s database, then inconclusive, however flat; anti-pattern runs and other databases are not counted', () => {
    const runs = [demoRun(1.0, { database: 'mysql' }), demoRun(1.0), demoRun(1.0, { scenario: 'anti-pattern-1' }), demoRun(1.05)];

    const drift = demoDriftOverRuns(runs);

    expect(drift.perRun).toHaveLength(2);
    expect(drift).toMatchObject({ database: 'sqlite', spread: [1, 1.05], verdict: 'inconclusive' });
    expect(demoDriftOverRuns([])).toMatchObject({ database: null, perRun: [], spread: null, verdict: 'inconclusive' });
  });

  it('When the demos ran as fast as the answers came (no DEMO_RATE), then none is compared and they are counted as unpaced', () => {
    const unpaced = [demoRun(1.6, { rate: null }), demoRun(1.5, { rate: undefined }), demoRun(1.4, { rate: null })];

    expect(demoDriftOverRuns(unpaced)).toMatchObject({ perRun: [], unpaced: 3, spread: null, verdict: 'inconclusive' });
    const mixed = demoDriftOverRuns([demoRun(1.0), ...unpaced, demoRun(1.1), demoRun(1.2)]);
    expect(mixed.perRun.map((r) => Number(r.ratio.toFixed(2)))).toEqual([1, 1.1, 1.2]);
    expect(mixed).toMatchObject({ unpaced: 3, verdict: 'pass' });
  });

  it('When a paced demo\'s flat step served 20% fewer requests per second than the pace, then a pass is inconclusive (not a similar rate), and a fail stays a fail', () => {
    const held = demoDriftOverRuns([demoRun(1.1), slowStep(demoRun(1.1), 0.9), demoRun(1.2)]);
    const notHeld = demoDriftOverRuns([demoRun(1.1), slowStep(demoRun(1.1), 0.8), demoRun(1.2)]);
    const failing = demoDriftOverRuns([demoRun(1.5), slowStep(demoRun(1.6), 0.8), demoRun(1.4)]);

    expect(held.perRun[1]).toMatchObject({ rateRange: [0.9, 1], heldRate: true });
    expect(held.verdict).toBe('pass');
    expect(notHeld.perRun[1]).toMatchObject({ rateRange: [0.8, 1], heldRate: false });
    expect(notHeld.verdict).toBe('inconclusive');
    expect(failing.verdict).toBe('fail');
    const slowStep2 = { ...demoRun(1.1), steps: demoRun(1.1).steps.map((s, i) => (i === 0 ? { ...s, perSecond: 240 } : s)) };
    expect(demoDriftOverRuns([demoRun(1.1), slowStep2, demoRun(1.2)])).toMatchObject({ verdict: 'inconclusive' });
  });

  it('When a paced demo\'s line has no per-step rates (written before they were recorded), then its rate counts as not held', () => {
    const old = demoRun(1.0, { steps: DEMO_FLAT_STEPS.map((step) => ({ step, p99: 20 })) });

    expect(demoRateRange(old.steps, 300)).toBeNull();
    expect(demoDriftOverRuns([demoRun(1.0), old, demoRun(1.0)])).toMatchObject({ verdict: 'inconclusive' });
  });
});
