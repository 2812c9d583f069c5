// The bench's comparison rounds (load/bench/compare.ts alternate) and how a figure comes of them (figures.ts), on
// constructed measurements: ABBA order so neither side is always first, and a round that measured nothing is
// unmeasured (the figure inconclusive), never a pass or a fail by accident.
import { describe, expect, it } from 'vitest';
import { alternate } from '../../load/bench/compare.ts';
import { SECOND_V1, cpuFigure, p99Figure, throughputFigure, userCpuFigure } from '../../load/bench/figures.ts';
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

  it('When a pair names an A/A control, then each figure is judged beside the control\'s ratio of the same measure (throughput with throughput, CPU with CPU, p99 with p99)', () => {
    const at = (rps: number, cpu: number, p99: number): LoadRun => ({ ...run(rps, cpu), p99 });
    // v2 within 2% of v1 on every measure; the second v1 differs from v1 by 30% in CPU, 1% in throughput, 10% in p99.
    const runs = { v1: [at(100, 1, 10), at(100, 1, 10)], v1Again: [at(99, 1.3, 11), at(100, 1, 10)], v2: [at(99, 1.02, 10.2), at(100, 1.01, 10.1)] };
    const pair = { runs, contenders: ['v1', 'v2'] as [string, string], labels: ['v1', 'v2'] as [string, string], control: SECOND_V1 };

    const cpu = cpuFigure('cpu', 'CPU', pair, 1.05);
    const throughput = throughputFigure('t', 'throughput', pair, 0.95);
    const p99 = p99Figure('p99', 'p99', pair, 1.1);

    expect(cpu.noise).toMatchObject({ control: 'v1 again vs v1', perRound: [1.3, 1], factor: 1.3 });
    expect(cpu.verdict).toBe('inconclusive');
    expect(throughput.noise!.perRound).toEqual([0.99, 1]);
    expect(throughput.verdict).toBe('pass');
    expect(p99.noise!.perRound).toEqual([1.1, 1]);
    expect(p99.verdict).toBe('inconclusive');
    // Without the control the same rounds pass all three.
    const bare = { ...pair, control: undefined };
    expect([cpuFigure('cpu', 'CPU', bare, 1.05), throughputFigure('t', 't', bare, 0.95), p99Figure('p', 'p', bare, 1.1)].map((f) => f.verdict)).toEqual(['pass', 'pass', 'pass']);
  });
});
