// Side-by-side comparison on a noisy machine: every contender is warmed up, then measured once per round, in
// ABBA order (forward in even rounds, backward in odd ones: over an even number of rounds each contender of a
// pair goes first equally often), so slow drift of the machine's load hits baseline and candidates alike. A ratio
// is taken within one round; the median over rounds is reported and the spread of the rounds is judged.
import type { LoadRun } from './http-load.ts';
import { median } from './http-load.ts';

export interface Contender {
  name: string;
  /** Runs before each of its measurements (set flags, pick the target). */
  prepare?: () => Promise<void>;
  measure: (seconds: number) => Promise<LoadRun>;
}

export interface Progress {
  (line: string): void;
}

export async function alternate(
  part: string,
  contenders: Contender[],
  { repeat, seconds, log }: { repeat: number; seconds: number; log: Progress },
): Promise<Record<string, LoadRun[]>> {
  const runs: Record<string, LoadRun[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  const warmup = Math.max(0.5, seconds / 2);
  for (const contender of contenders) {
    await contender.prepare?.();
    const run = await contender.measure(warmup);
    log(`${part} warm-up: ${contender.name} ${formatRun(run)}`);
  }
  for (let round = 0; round < repeat; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      await contender.prepare?.();
      const run = await contender.measure(seconds);
      if (run.requests === 0) {
        // A machine so busy that nothing was answered (seen at load average 26 on 2 cores) measured nothing: the
        // round's ratios are unmeasured, so every figure using them is inconclusive, and the bench goes on.
        runs[contender.name]!.push(unmeasured(run));
        log(`${part} round ${round + 1}/${repeat}: ${contender.name} answered no request in ${seconds} s: round not measured`);
        continue;
      }
      runs[contender.name]!.push(run);
      log(`${part} round ${round + 1}/${repeat}: ${contender.name} ${formatRun(run)}`);
    }
  }
  return runs;
}

/** A run that measured nothing: every number NaN (null in bench.json), so any ratio with it is unmeasured. */
export function unmeasured(run: LoadRun): LoadRun {
  return { ...run, rps: Number.NaN, p50: Number.NaN, p99: Number.NaN, cpuMsPerRequest: null, userCpuMsPerRequest: null, peakRssMb: null };
}

export function formatRun(run: LoadRun): string {
  const user = run.userCpuMsPerRequest === null ? '' : ` (user ${run.userCpuMsPerRequest.toFixed(3)})`;
  const cpu = run.cpuMsPerRequest === null ? '' : `, server CPU ${run.cpuMsPerRequest.toFixed(3)} ms/req${user}`;
  return `${run.rps.toFixed(0)} req/s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms${cpu}${run.errors ? `, ${run.errors} errors` : ''}`;
}

export interface PairedRatio {
  /** Median over rounds of candidate/baseline, each ratio within one round. */
  median: number;
  perRound: number[];
}

export function pairedRatio(baseline: LoadRun[], candidate: LoadRun[], pick: (run: LoadRun) => number): PairedRatio {
  const perRound = candidate.map((run, i) => pick(run) / pick(baseline[i]!));
  return { median: median(perRound), perRound };
}

export function medianOf(runs: LoadRun[], pick: (run: LoadRun) => number): number {
  return median(runs.map(pick));
}
