// What a long backfill shows while it runs (gh-ost's status line): one line rewritten in place on a terminal,
// plain lines every few seconds (and at once when the throttle state changes) when the output is a file or a
// pipe, and a one-screen summary at the end. Progress counts keys of the fixed range: counting rows per batch
// would cost a scan per batch. Keys that are not numbers (uuid) have no arithmetic: there it counts rows, done
// against the total counted once at the start (checkpoint.ts), and the numbers below are row positions.
export type ProgressUnit = 'keys' | 'rows';

export interface ProgressSnapshot {
  runId: number;
  direction: string;
  rangeStart: number;
  rangeEnd: number;
  nextId: number;
  rowsChanged: number;
  /** Keys done by this process (a resumed run started part-way). */
  keysThisProcess: number;
  elapsedMs: number;
  batchSize: number;
  /** Why it waits, or null while it works. */
  throttle: string | null;
  /** What the numbers count (default keys). */
  unit?: ProgressUnit;
}

export interface BackfillSummary {
  runId: number;
  direction: string;
  /** The key it resumed at (integer keys: the first key; string keys: after this one). */
  resumedFrom: number | string | null;
  rangeStart: number;
  rangeEnd: number;
  /** The checkpoint it left: every key below it is done. */
  nextId: number;
  keys: number;
  rowsChanged: number;
  rowsChangedThisProcess: number;
  batches: number;
  retries: number;
  elapsedMs: number;
  throttledMs: number;
  interrupted: boolean;
  /** What keys, rangeStart..rangeEnd and nextId count (default keys). */
  unit?: ProgressUnit;
  /** String keys: the fixed key range, and the last key done (null: none). */
  stringKeys?: { start: string; end: string; done: string | null } | null;
  /** App-side backfill: rows whose compare-and-set found a concurrent write and were read again. */
  rowRetries?: number;
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  /** A line that must not be lost among progress lines (resume, retries). */
  note(line: string): void;
  done(summary: BackfillSummary): void;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');

export function formatProgress(s: ProgressSnapshot): string {
  const total = Math.max(0, s.rangeEnd - s.rangeStart + 1);
  const done = Math.min(total, Math.max(0, s.nextId - s.rangeStart));
  const percent = total === 0 ? 100 : (100 * done) / total;
  const rate = s.elapsedMs > 0 ? (s.keysThisProcess * 1000) / s.elapsedMs : 0;
  const eta = s.throttle ? 'waiting' : rate > 0 ? `ETA ${formatDuration(((total - done) / rate) * 1000)}` : 'ETA ?';
  const state = s.throttle ? `throttled: ${s.throttle}` : 'running';
  const unit = s.unit ?? 'keys';
  return `backfill #${s.runId} ${s.direction}: ${n(done)}/${n(total)} ${unit} (${percent.toFixed(1)}%), ${n(s.rowsChanged)} rows changed, ${n(rate)} ${unit}/s, ${eta}, batch ${n(s.batchSize)} [${state}]`;
}

export function formatSummary(s: BackfillSummary): string {
  const rate = s.elapsedMs > 0 ? (s.keys * 1000) / s.elapsedMs : 0;
  const unit = s.unit ?? 'keys';
  const keys = s.stringKeys;
  const resumed = s.resumedFrom === null ? '' : typeof s.resumedFrom === 'number' ? ` (resumed at key ${n(s.resumedFrom)})` : ` (resumed after key ${s.resumedFrom})`;
  const range = keys ? `${keys.start}..${keys.end}, ${n(s.rangeEnd)} rows counted at the start` : `${s.rangeStart}..${s.rangeEnd}`;
  return [
    `backfill #${s.runId} ${s.direction} ${s.interrupted ? 'interrupted' : 'done'}${resumed}`,
    `  key range      ${range} (fixed at the start; later rows are v2's dual writes or verify's to find)`,
    `  this process   ${n(s.keys)} ${unit} in ${formatDuration(s.elapsedMs)}, ${n(rate)} ${unit}/s, ${n(s.rowsChangedThisProcess)} rows changed`,
    `  whole run      ${n(s.rowsChanged)} rows changed in ${n(s.batches)} batches, ${n(s.retries)} retried${s.rowRetries ? `, ${n(s.rowRetries)} rows read again after a concurrent write` : ''}`,
    `  throttled      ${formatDuration(s.throttledMs)}`,
  ].join('\n');
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A live line on a terminal; on a file or pipe, a line every `intervalMs` and whenever the throttle state changes. */
export function streamProgress(stream: NodeJS.WriteStream, { intervalMs = 5000, liveIntervalMs = 200 }: { intervalMs?: number; liveIntervalMs?: number } = {}): ProgressReporter {
  const live = stream.isTTY === true;
  let printedAt = -Infinity;
  let lastThrottle: string | null = null;
  let lineOpen = false;
  const endLine = () => {
    if (lineOpen) stream.write('\n');
    lineOpen = false;
  };
  return {
    update(snapshot) {
      const changed = snapshot.throttle !== lastThrottle;
      lastThrottle = snapshot.throttle;
      const due = performance.now() - printedAt >= (live ? liveIntervalMs : intervalMs);
      if (!due && !changed) return;
      printedAt = performance.now();
      if (live) {
        stream.write(`\r\x1b[K${formatProgress(snapshot)}`);
        lineOpen = true;
      } else {
        stream.write(`${formatProgress(snapshot)}\n`);
      }
    },
    note(line) {
      endLine();
      stream.write(`${line}\n`);
    },
    done(summary) {
      endLine();
      stream.write(`${formatSummary(summary)}\n`);
    },
  };
}

export function silentProgress(): ProgressReporter {
  return { update: () => {}, note: () => {}, done: () => {} };
}
