// Per-step figures for the final screen, computed from the recorded history (every response, not a sample).
import { answered } from '../proof/history.ts';
import type { Op } from '../proof/history.ts';

export interface StepStats {
  step: string;
  seconds: number;
  requests: number;
  perSecond: number;
  p50: number | null;
  p99: number | null;
  errors: number;
  retries: number;
  byVersion: Record<string, number>;
}

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

export function stepStats(step: string, ops: Op[], startedAt: number, endedAt: number): StepStats {
  const inStep = ops.filter((op) => op.step === step);
  const latencies = inStep.filter(answered).map((op) => op.completeAt! - op.invokeAt).sort((a, b) => a - b);
  const byVersion: Record<string, number> = {};
  for (const op of inStep) if (op.version) byVersion[op.version] = (byVersion[op.version] ?? 0) + 1;
  const seconds = Math.max(0.001, (endedAt - startedAt) / 1000);
  return {
    step,
    seconds: Math.round(seconds * 10) / 10,
    requests: inStep.length,
    perSecond: Math.round(inStep.length / seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: inStep.filter((op) => !answered(op)).length,
    retries: inStep.filter((op) => op.retryOf !== undefined).length,
    byVersion,
  };
}
