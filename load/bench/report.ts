// The bench's verdict: one row per figure (baseline, candidate, the median ratio, its spread over rounds, the
// goal, the verdict), printed as a table that reads on its own (it goes into docs/performance.md as it is), and
// the machine it was measured on. A goal is judged on the spread, never on the median alone: on a noisy
// machine a median can sit on either side of a goal by luck, a spread that straddles the goal cannot.
import os from 'node:os';
import type { DemoRun } from '../rollout/demo-runs.ts';
import { ROLLOUT_STEPS, stepLabel } from '../rollout/steps/index.ts';

/** What a figure must reach: every per-round value at least / at most `value`. */
export interface Goal {
  atLeast?: number;
  atMost?: number;
  unit: 'x' | ' MB';
}

/**
 * pass: every round met the goal; fail: no round met it; inconclusive: some did and some did not (the noise
 * is larger than the distance to the goal), or the figure could not be measured at all.
 */
export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** [lowest, highest] per-round value, or null when nothing was measured. */
export type Spread = [number, number] | null;

export interface Figure {
  /** Key in bench.json's `figures`. */
  key: string;
  figure: string;
  baseline: string;
  candidate: string;
  /** The median paired ratio (or the value of an absolute figure, e.g. MB); null when not measured. */
  ratio: number | null;
  spread: Spread;
  /** e.g. ">= 0.95x", "<= 120 MB"; "-" when the issue set none. */
  goal: string;
  /** Null when the figure has no goal (shown for information). */
  verdict: Verdict | null;
  /** 'MB': an absolute figure in MB (ratio and spread are MB, not x). Implied by a goal in MB. */
  unit?: 'MB';
  /** Per-round ratios, medians of the raw numbers: everything a reader needs to judge the noise. */
  detail?: Record<string, unknown>;
  /** Set when the figure was judged beside an A/A control (judgedWithControl): the verdict is on `judgedOn`, not `spread`. */
  noise?: Noise;
}

/** What an A/A control (the same code, or the same processes, measured twice in each round) says about a figure. */
export interface Noise {
  /** Which two contenders the control compared, as the table names them ("v1 again vs v1"). */
  control: string;
  /** The control's per-round ratios. */
  perRound: number[];
  /** noiseFactor of the control; null when a round of it measured nothing. */
  factor: number | null;
  /** The figure's spread widened by the factor both ways: what the goal is judged on. */
  judgedOn: Spread;
}

/** The spread of per-round values; NaN or infinite rounds (nothing measured in them) make it unmeasured. */
export function spreadOf(perRound: number[]): Spread {
  if (perRound.length === 0 || perRound.some((v) => !Number.isFinite(v))) return null;
  return [Math.min(...perRound), Math.max(...perRound)];
}

export function judge(spread: Spread, goal: Goal): Verdict {
  if (spread === null) return 'inconclusive';
  const [low, high] = spread;
  if (goal.atLeast !== undefined) {
    if (low >= goal.atLeast) return 'pass';
    if (high < goal.atLeast) return 'fail';
    return 'inconclusive';
  }
  if (goal.atMost !== undefined) {
    if (high <= goal.atMost) return 'pass';
    if (low > goal.atMost) return 'fail';
    return 'inconclusive';
  }
  throw new Error('judge: a goal needs atLeast or atMost');
}

export function formatGoal(goal: Goal | null): string {
  if (goal === null) return '-';
  return goal.atLeast !== undefined ? `>= ${goal.atLeast}${goal.unit}` : `<= ${goal.atMost}${goal.unit}`;
}

/** A figure's goal and verdict from its per-round values (the median is the `ratio` shown). */
export function judged(perRound: number[], goal: Goal | null): Pick<Figure, 'spread' | 'goal' | 'verdict'> {
  const spread = spreadOf(perRound);
  return { spread, goal: formatGoal(goal), verdict: goal === null ? null : judge(spread, goal) };
}

/**
 * The noise floor an A/A control measured: the largest factor by which its two measurements of the same thing
 * differed in one round, up or down (1.35 for a control spread of 0.74x-1.00x); null when it measured nothing.
 */
export function noiseFactor(controlPerRound: number[]): number | null {
  const spread = spreadOf(controlPerRound);
  return spread === null ? null : Math.max(spread[1], 1 / spread[0], 1);
}

/**
 * A figure whose two sides are different processes (v2 against v1), judged beside an A/A control: a second process
 * of the baseline's code, measured in the same rounds. Each round's ratio is the true ratio times the two
 * processes' offset (a long-lived process can land in a cheaper or costlier state and keep it for the whole part:
 * docs/performance.md) times that round's time-to-time noise, and the per-round spread shows only the noise. The
 * control shows both for two processes of the same code; a few rounds cannot tell them apart, so its worst round is
 * used whole (conservative): the true ratio lies within the spread widened by the control's noise factor both
 * ways, [low / r, high * r], and the goal is judged on that. A pass needs the whole widened spread inside the goal,
 * a fail needs it wholly outside (a real regression larger than the noise still fails:
 * test/bench/bench-slowed.full.test.ts). Where the control's noise is larger than the goal's margin (a 5% goal on a
 * machine whose A/A rounds differ by 30%), nothing near the goal can be told from noise, and the verdict says so
 * (inconclusive) instead of a pass or a fail by luck. An unmeasured control: inconclusive.
 */
export function judgedWithControl(perRound: number[], goal: Goal | null, control: { name: string; perRound: number[] }): Pick<Figure, 'spread' | 'goal' | 'verdict' | 'noise'> {
  const spread = spreadOf(perRound);
  const factor = noiseFactor(control.perRound);
  const judgedOn: Spread = spread === null || factor === null ? null : [spread[0] / factor, spread[1] * factor];
  return {
    spread,
    goal: formatGoal(goal),
    verdict: goal === null ? null : judge(judgedOn, goal),
    noise: { control: control.name, perRound: control.perRound.map((r) => Number(r.toFixed(3))), factor: factor === null ? null : Number(factor.toFixed(3)), judgedOn },
  };
}

/** The demo's steps without instance churn or a backfill (2, 3, 4, 7, 8, 9, 10), labelled as its summary labels them (from the step files). */
export const DEMO_FLAT_STEPS = [2, 3, 4, 7, 8, 9, 10].map((n) => stepLabel(ROLLOUT_STEPS[n]!));

/**
 * Each flat step's p99 over step 2's, from one demo's summary (its steps); null when a flat step or its p99 is
 * missing (an anti-pattern run stops after step 5; an older summary has no steps). The issue's goal: every one
 * within 1.3x (judged over 3 demos: demoDriftOverRuns).
 */
export function demoP99Drift(steps: Array<{ step: string; p99: number | null }>): Record<string, number> | null {
  const p99Of = new Map(steps.map((s) => [s.step, s.p99]));
  const [first, ...later] = DEMO_FLAT_STEPS.map((step) => p99Of.get(step) ?? null);
  if (!first || later.some((p99) => p99 === null)) return null;
  return Object.fromEntries(DEMO_FLAT_STEPS.slice(1).map((step, i) => [step, later[i]! / first]));
}

/** Demos the drift goal is judged over (the issue: the median of 3). */
export const DEMO_DRIFT_RUNS = 3;

/** The pace `make drift` runs its demos at (requests per second): a third of what the demo's fleet serves on 2 cores. */
export const DEMO_DRIFT_RATE = 300;

/** A flat step ran "at a similar rate" when its requests per second are within this share of the pace (DEMO_RATE). */
export const DEMO_RATE_TOLERANCE = 0.15;

/** The lowest and highest requests per second of the flat steps (2 included) as shares of the pace; null when a step has none. */
export function demoRateRange(steps: DemoRun['steps'], pace: number): [number, number] | null {
  const rateOf = new Map(steps.map((s) => [s.step, s.perSecond]));
  const rates = DEMO_FLAT_STEPS.map((step) => rateOf.get(step));
  if (rates.some((r) => typeof r !== 'number')) return null;
  const shares = rates.map((r) => r! / pace);
  return [Math.min(...shares), Math.max(...shares)];
}

/**
 * The p99 drift over the latest `wanted` paced rollout demos (DEMO_RATE set) on the database of the latest one: each
 * run's worst flat step against its step 2. A demo run as fast as the answers come is not counted: its steps run at
 * whatever rate their instances serve (step 2's three processes, mostly v1, against two v2 later), so its p99 compare
 * queues of different lengths, not costs. An anti-pattern run, or one without per-step p99, is not counted either.
 * Judged like every figure, on the spread of the per-run values; inconclusive with fewer than `wanted` runs, or when
 * a run would pass but a flat step did not hold the pace within DEMO_RATE_TOLERANCE (then the steps did not run at
 * "a similar rate").
 */
export function demoDriftOverRuns(runs: readonly DemoRun[], wanted = DEMO_DRIFT_RUNS) {
  const rollouts = runs.filter((r) => r.scenario === 'rollout' && demoP99Drift(r.steps) !== null);
  const paced = rollouts.filter((r) => typeof r.rate === 'number');
  const database = paced.at(-1)?.database ?? null;
  const used = paced.filter((r) => r.database === database).slice(-wanted);
  const perRun = used.map((run) => {
    const drift = demoP99Drift(run.steps)!;
    const [step, ratio] = Object.entries(drift).reduce((a, b) => (b[1] > a[1] ? b : a));
    const rateRange = demoRateRange(run.steps, run.rate!);
    const heldRate = rateRange !== null && rateRange[0] >= 1 - DEMO_RATE_TOLERANCE && rateRange[1] <= 1 + DEMO_RATE_TOLERANCE;
    return { at: run.at, step, ratio, step2P99: run.steps.find((s) => s.step === DEMO_FLAT_STEPS[0])!.p99!, rate: run.rate!, rateRange, heldRate };
  });
  const judgement = judged(
    perRun.map((r) => r.ratio),
    { atMost: 1.3, unit: 'x' },
  );
  const tooFew = perRun.length < wanted && judgement.verdict !== null;
  const rateNotHeld = judgement.verdict === 'pass' && perRun.some((r) => !r.heldRate);
  return { database, perRun, unpaced: rollouts.length - paced.length, ...judgement, verdict: tooFew || rateNotHeld ? ('inconclusive' as const) : judgement.verdict };
}

export function machine(serverVersion: string) {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    database: serverVersion,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

const unitOf = (figure: Figure) => (figure.unit === 'MB' || figure.goal.endsWith('MB') ? ' MB' : 'x');
const fmtValue = (value: number, unit: string) => (unit === 'x' ? `${value.toFixed(2)}x` : `${value.toFixed(0)}${unit}`);
const fmtRatio = (figure: Figure) => (figure.ratio === null || unitOf(figure) !== 'x' ? '-' : fmtValue(figure.ratio, 'x'));
const fmtRange = (spread: [number, number], unit: string) => (spread[0] === spread[1] ? fmtValue(spread[0], unit) : `${fmtValue(spread[0], unit)}–${fmtValue(spread[1], unit)}`);
/** The spread, and for a figure judged beside an A/A control the control's noise and the widened spread the verdict is on. */
const fmtSpread = (figure: Figure) => {
  if (figure.spread === null) return figure.verdict === null ? '-' : 'not measured';
  const spread = fmtRange(figure.spread, unitOf(figure));
  const noise = figure.noise;
  if (noise === undefined || figure.verdict === null) return spread;
  if (noise.factor === null || noise.judgedOn === null) return `${spread}, A/A not measured`;
  return `${spread}, A/A ±${((noise.factor - 1) * 100).toFixed(0)}%: ${fmtRange(noise.judgedOn, 'x')}`;
};
const fmtVerdict = (verdict: Verdict | null) => (verdict === null ? '-' : verdict === 'pass' ? 'pass' : verdict === 'fail' ? 'FAIL' : 'inconclusive');

/** A Markdown table: readable on a terminal and pasted as it is into docs/performance.md. */
export function formatTable(figures: Figure[]): string {
  const header = ['figure', 'baseline', 'candidate', 'ratio', 'spread', 'goal', 'verdict'];
  const rows = figures.map((f) => [f.figure, f.baseline, f.candidate, fmtRatio(f), fmtSpread(f), f.goal, fmtVerdict(f.verdict)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function mmss(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
