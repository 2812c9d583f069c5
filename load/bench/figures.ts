// How a comparison becomes a figure: the per-round paired ratio of one measure (throughput, p99, CPU per answered
// request), its median, spread and verdict against the goal (report.ts judges), and the baseline and candidate as
// a reader sees them. Every HTTP part builds its rows with these.
import { medianOf, pairedRatio } from './compare.ts';
import type { LoadRun } from './http-load.ts';
import { judged, judgedWithControl } from './report.ts';
import type { Figure, Goal } from './report.ts';

export const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
export const mb = (value: number | null) => (value === null ? 'not readable (/proc)' : `${value.toFixed(0)} MB`);
export const atLeast = (value: number): Goal => ({ atLeast: value, unit: 'x' });
export const atMost = (value: number): Goal => ({ atMost: value, unit: 'x' });
export const rounded = (values: number[]) => values.map((r) => Number(r.toFixed(3)));

/** Which two contenders of a comparison, and how the table names them. */
export interface Pair {
  runs: Record<string, LoadRun[]>;
  contenders: [baseline: string, candidate: string];
  labels: [baseline: string, candidate: string];
  /**
   * An A/A control measured in the same rounds ([baseline, its twin]: v1 and a second v1 of the same code): the
   * figure is then judged on its spread widened by the control's noise (judgedWithControl).
   */
  control?: { contenders: [baseline: string, twin: string]; name: string };
}

/** The write and read parts' control: a second v1 (`v1Again`) started with v1 and v2, measured in the same rounds. */
export const SECOND_V1: NonNullable<Pair['control']> = { contenders: ['v1', 'v1Again'], name: 'v1 again vs v1' };

/** A paired ratio per round (candidate/baseline of `pick`), its median, spread and verdict. */
function pairedFigure(key: string, figure: string, { runs, contenders: [baseline, candidate], labels, control }: Pair, pick: (run: LoadRun) => number, show: (value: number) => string, goal: Goal | null): Figure {
  const ratio = pairedRatio(runs[baseline]!, runs[candidate]!, pick);
  const noise = control && { name: control.name, perRound: pairedRatio(runs[control.contenders[0]]!, runs[control.contenders[1]]!, pick).perRound };
  return {
    key,
    figure,
    baseline: `${labels[0]} ${show(medianOf(runs[baseline]!, pick))}`,
    candidate: `${labels[1]} ${show(medianOf(runs[candidate]!, pick))}`,
    ratio: Number.isFinite(ratio.median) ? ratio.median : null,
    ...(noise ? judgedWithControl(ratio.perRound, goal, noise) : judged(ratio.perRound, goal)),
    detail: { perRound: rounded(ratio.perRound) },
  };
}

export function throughputFigure(key: string, figure: string, pair: Pair, goal: number | null): Figure {
  return pairedFigure(key, figure, pair, (run) => run.rps, (v) => `${fmt(v)} req/s`, goal === null ? null : atLeast(goal));
}

export function p99Figure(key: string, figure: string, pair: Pair, goal: number | null): Figure {
  return pairedFigure(key, figure, pair, (run) => run.p99, (v) => `p99 ${fmt(v, 1)} ms`, goal === null ? null : atMost(goal));
}

/**
 * CPU time of the serving processes per answered request, candidate vs baseline: what the code costs, whatever
 * else the machine runs. The goal is the throughput goal's counterpart (>= 0.95x -> <= 1.05x). A run without a
 * CPU reading (no /proc) is NaN: the figure is unmeasured, so inconclusive.
 */
export function cpuFigure(key: string, figure: string, pair: Pair, goal: number | null): Figure {
  return pairedFigure(key, figure, pair, (run) => run.cpuMsPerRequest ?? Number.NaN, (v) => `${fmt(v, 3)} ms/req`, goal === null ? null : atMost(goal));
}

/**
 * The user-mode part of cpuFigure's CPU, no goal: what the processes' own code costs. When it holds still while the
 * whole figure moves, the difference is system time (the kernel's socket work), not the code under test.
 */
export function userCpuFigure(key: string, figure: string, pair: Pair): Figure {
  return pairedFigure(key, figure, pair, (run) => run.userCpuMsPerRequest ?? Number.NaN, (v) => `${fmt(v, 3)} ms/req`, null);
}

/**
 * The A/A control, no goal: the CPU per request of a second v1 (`v1Again`) against v1's, measured in the same rounds
 * of `runs`. The same code: its ratio is the noise floor under the CPU figures beside it.
 */
export function aaControlFigure(key: string, request: 'PUT' | 'GET', runs: Pair['runs']): Figure {
  return cpuFigure(key, `${request} instance CPU per request, a second v1 vs v1 (A/A control: the same code, no goal)`, { runs, contenders: SECOND_V1.contenders, labels: ['v1', 'v1 again'] }, null);
}
