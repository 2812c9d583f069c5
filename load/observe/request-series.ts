// Requests per second, p99 latency per version, errors and read sources, one bucket per second of the
// history's clock (seconds since the demo started). An operation counts in the second it was answered (a write
// of unknown outcome, which has no answer, in the second it was sent). The live dashboard adds operations as
// they are answered; the report adds the whole history at the end: the same figures both ways.
import { answered } from '../proof/history.ts';
import type { Op } from '../proof/history.ts';

export interface SecondFigures {
  /** Answered requests by the version that answered. */
  requests: Record<string, number>;
  p99Ms: Record<string, number | null>;
  /** Requests that did not succeed: an error answer, no answer, or a write of unknown outcome. */
  errors: number;
  /** Reads answered by v2, by X-Read-Source (old, new, fallback). */
  readSources: Record<string, number>;
}

interface Bucket {
  latencies: Map<string, number[]>;
  errors: number;
  readSources: Map<string, number>;
}

export class RequestSeries {
  private readonly buckets = new Map<number, Bucket>();
  /** Seconds whose latencies were summed up into their figures (compact): what a long sandbox keeps per second. */
  private readonly frozen = new Map<number, SecondFigures>();

  /** t0: the history-clock time of second 0. */
  constructor(private readonly t0: number) {}

  second(at: number): number {
    return Math.floor((at - this.t0) / 1000);
  }

  add(op: Op): void {
    const second = this.second(op.completeAt ?? op.invokeAt);
    const figures = this.frozen.get(second);
    if (figures) {
      // Late news for a second already summed up: only a request without an answer comes this late (an answered
      // one counts in the second of its answer, which is now), and it is an error.
      if (!answered(op)) figures.errors++;
      else figures.requests[op.version ?? 'unknown'] = (figures.requests[op.version ?? 'unknown'] ?? 0) + 1;
      return;
    }
    let bucket = this.buckets.get(second);
    if (!bucket) {
      bucket = { latencies: new Map(), errors: 0, readSources: new Map() };
      this.buckets.set(second, bucket);
    }
    if (!answered(op) || op.completeAt === null) {
      bucket.errors++;
      return;
    }
    const version = op.version ?? 'unknown';
    const list = bucket.latencies.get(version);
    const latency = op.completeAt - op.invokeAt;
    if (list) list.push(latency);
    else bucket.latencies.set(version, [latency]);
    if (op.readSource) bucket.readSources.set(op.readSource, (bucket.readSources.get(op.readSource) ?? 0) + 1);
  }

  lastSecond(): number {
    let last = -1;
    for (const second of this.buckets.keys()) last = Math.max(last, second);
    for (const second of this.frozen.keys()) last = Math.max(last, second);
    return last;
  }

  /** Sums up every second before `second` into its figures and drops its latencies: memory per second stays constant. */
  compact(second: number): void {
    for (const key of [...this.buckets.keys()]) {
      if (key >= second) continue;
      this.frozen.set(key, this.figures(key));
      this.buckets.delete(key);
    }
  }

  figures(second: number): SecondFigures {
    const frozen = this.frozen.get(second);
    if (frozen) return { ...frozen, requests: { ...frozen.requests }, p99Ms: { ...frozen.p99Ms }, readSources: { ...frozen.readSources } };
    const bucket = this.buckets.get(second);
    const figures: SecondFigures = { requests: {}, p99Ms: {}, errors: bucket?.errors ?? 0, readSources: {} };
    if (!bucket) return figures;
    for (const [version, latencies] of bucket.latencies) {
      latencies.sort((a, b) => a - b);
      figures.requests[version] = latencies.length;
      figures.p99Ms[version] = Math.round(latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))]! * 10) / 10;
    }
    for (const [source, count] of bucket.readSources) figures.readSources[source] = count;
    return figures;
  }
}

/** Feeds a RequestSeries with operations as they are answered (from the recorder's ring: `dropped` left its front). */
export class AnsweredOps {
  private seen = 0;
  private readonly unanswered = new Set<Op>();

  constructor(private readonly recorder: { ops: Op[]; dropped?: number; pending(): Op[] }) {}

  /** Operations answered (or given up) since the last call. */
  drain(): Op[] {
    const { ops } = this.recorder;
    const dropped = this.recorder.dropped ?? 0;
    this.seen = Math.max(this.seen, dropped);
    for (; this.seen < dropped + ops.length; this.seen++) this.unanswered.add(ops[this.seen - dropped]!);
    const pending = new Set(this.recorder.pending().map((op) => op.id));
    const answered: Op[] = [];
    for (const op of this.unanswered) {
      if (pending.has(op.id)) continue;
      this.unanswered.delete(op);
      answered.push(op);
    }
    return answered;
  }
}
