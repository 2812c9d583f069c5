// What every part of make bench is given (its settings, the progress line, where its raw numbers go), what the
// HTTP parts share (one database, a v1 and a v2 side by side, seeded users, the compiled build), and the shape
// of a part: its name, what it measures, its planned seconds (for the ETA), and the figures it returns.
import fs from 'node:fs';
import type { BackfillBench } from './backfill.ts';
import type { Progress } from './compare.ts';
import type { HttpFixture } from './fixture.ts';
import { runHttpLoad } from './http-load.ts';
import type { LoadRun, Operation } from './http-load.ts';
import type { BenchOptions, Part } from './options.ts';
import type { Figure } from './report.ts';

export interface BenchContext {
  options: BenchOptions;
  log: Progress;
  /** bench.json's `raw`: every measurement, by part. */
  raw: Record<string, unknown>;
  /** TEST ONLY (BENCH_TEST_SLOW_V2_MS): the environment that makes every v2 the bench starts burn CPU per request. */
  slowV2: Record<string, string>;
  /** The bench's admin connection: fresh seeded tables for the backfill parts, the server's version. */
  backfill: BackfillBench;
}

/** An instance (or anything with a URL) and the processes whose CPU serves it. */
export interface Instance {
  url: string;
  pid: number;
  port: number;
}

export interface HttpContext extends BenchContext {
  fixture: HttpFixture;
  v1: Instance;
  /**
   * A second v1, started with the first and measured beside it in the write and read parts: the A/A control. Two
   * processes of the same code differ by their JIT, heap and scheduling; its ratio to v1 is the floor under which
   * no v2 ratio means anything.
   */
  v1Again: Instance;
  /** v2 with the default dual-write strategy (`single`). */
  v2: Instance;
  /** Users for writes; reads use others (a v1 PUT leaves profile_data stale, which would make reads at 100% fallbacks). */
  writeIds: string[];
  readIds: string[];
  /** The build the container image runs (compiled JS under plain node), built once on first use; null with the reason when it cannot be. */
  compiled: () => Promise<{ dist: string } | { skipped: string }>;
}

export interface BenchPart<C extends BenchContext> {
  name: Part;
  /** The progress line's title. */
  what: (options: BenchOptions) => string;
  /** About how long it takes on a quiet 2-core machine, for the ETA. */
  plannedSeconds: (options: BenchOptions) => number;
  measure: (context: C) => Promise<Figure[]>;
}

/** Planned seconds of an HTTP comparison of `contenders` (warm-up, rounds, flag waits and bookkeeping). */
export function httpPlan(options: BenchOptions, contenders: number): number {
  const { seconds, repeat } = options;
  return contenders * (Math.max(0.5, seconds / 2) + repeat * seconds) + contenders * 0.5 * (repeat + 1);
}

/** A measurement of `seconds` against one target, its CPU charged to `pids` (default: the instance itself). */
export const loadOn =
  (context: BenchContext, target: { url: string; pid?: number }, operation: Operation, keys: string[], pids?: () => number[]) =>
  (seconds: number): Promise<LoadRun> =>
    runHttpLoad({ url: target.url, operation, keys, seconds, connections: context.options.connections, pids: pids ? pids() : target.pid ? [target.pid] : [] });

/** A process's children (Linux /proc): nginx's workers, which do its work, are children of the master we started. */
export function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
