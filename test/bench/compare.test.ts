// The bench's comparison rounds (load/bench/compare.ts alternate) and how a figure comes of them (figures.ts), on
// constructed measurements: ABBA order so neither side is always first, and a round that measured nothing is
// unmeasured (the figure inconclusive), never a pass or a fail by accident.
import { describe, expect, it } from 'vitest';
import { alternate } from '../../load/bench/compare.ts';
import { cpuFigure, throughputFigure, userCpuFigure } from '../../load/bench/figures.ts';
import type { LoadRun } from '../../load/bench/http-load.ts';

const run = (rps: number, cpuMsPerRequest: number | null = 1, userCpuMsPerRequest: number | null = cpuMsPerRequest && cpuMsPerRequest / 2): LoadRun => ({
  rps,
  p50: 1,
  p99: 2,
  errors: 0,
  requests: Math.round(rps),
  seconds: 1,
  cpuMsPerRequest,
  userCpuMsPerRequest,
  peakRssMb: null,
});

describe('bench comparison rounds', () => {
  it('When two contenders are compared over 4 rounds, then each is warmed up once and the rounds run A B, B A, A B, B A', async () => {
    const order: string[] = [];
    const contender = (name: string) => ({ name, measure: async (seconds: number) => (order.push(`${name}${seconds === 1 ? '' : '-warm'}`), run(100)) });

    const runs = await alternate('test', [contender('A'), contender('B')], { repeat: 4, seconds: 1, log: () => {} });

    expect(order).toEqual(['A-warm', 'B-warm', 'A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    expect(runs.A).toHaveLength(4);
    expect(runs.B).toHaveLength(4);
  });

  it('When the candidate answers nothing in one round, then that round is unmeasured, the figure inconclusive with no spread, and the other rounds are kept', async () => {
    const candidate = [run(100), run(0), run(100), run(100), run(100)];
    const lines: string[] = [];
    const runs = await alternate(
      'test',
      [
        { name: 'v1', measure: async () => run(100) },
        { name: 'v2', measure: async () => candidate.shift()! },
      ],
      { repeat: 4, seconds: 1, log: (line) => lines.push(line) },
    );

    const pair = { runs, contenders: ['v1', 'v2'] as [string, string], labels: ['v1', 'v2'] as [string, string] };
    expect(throughputFigure('t', 'throughput', pair, 0.95)).toMatchObject({ spread: null, verdict: 'inconclusive' });
    expect(cpuFigure('c', 'cpu', pair, 1.05)).toMatchObject({ spread: null, verdict: 'inconclusive' });
    expect(runs.v2!.filter((r) => Number.isFinite(r.rps))).toHaveLength(3);
    expect(lines.some((line) => /v2 answered no request in 1 s: round not measured/.test(line))).toBe(true);
  });

  it('When every round was measured, then the figure is judged on its spread (here a pass)', async () => {
    const runs = { v1: [run(100), run(100)], v2: [run(97), run(120)] };
    expect(throughputFigure('t', 'throughput', { runs, contenders: ['v1', 'v2'], labels: ['v1', 'v2'] }, 0.95)).toMatchObject({ spread: [0.97, 1.2], verdict: 'pass' });
  });

  it('When the whole CPU per request fails its goal but its user-mode part is the same, then the user CPU figure shows the code costs no more (no goal, no verdict)', () => {
    const runs = { v1: [run(100, 0.2, 0.1), run(100, 0.2, 0.1)], v2: [run(100, 0.26, 0.1), run(100, 0.24, 0.1)] };
    const pair = { runs, contenders: ['v1', 'v2'] as [string, string], labels: ['v1', 'v2'] as [string, string] };

    const whole = cpuFigure('cpu', 'CPU', pair, 1.05);
    const user = userCpuFigure('userCpu', 'user CPU', pair);

    expect(whole.spread).toEqual([1.2, 1.3]);
    expect(whole.verdict).toBe('fail');
    expect(user.spread).toEqual([1, 1]);
    expect(user.ratio).toBe(1);
    expect(user.verdict).toBeNull();
  });
});

