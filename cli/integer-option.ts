// Integer command-line options for the rollout tools (backfill, verify, rollout): strict digits within a range,
// or a UsageError naming the option ("--batch must be an integer from 1 to 100000 (got "abc")").
import { UsageError } from './cli.ts';

export function integerOption(name: string, raw: string | undefined, { min, max }: { min: number; max: number }): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return value;
}

/** A decimal option (`--nice-ratio 0.5`): plain digits with an optional fraction, within a range. */
export function decimalOption(name: string, raw: string | undefined, { min, max }: { min: number; max: number }): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return value;
}
