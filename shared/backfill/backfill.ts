// Backfill (checklist: "Start the backfill process to copy old data into the new column"), as a batched
// background job that is safe to run against a live table shared by v1 and v2:
// - batches by primary-key range, each ONE short UPDATE that computes the value from the row's own current
//   columns (batch-statements.ts): no concurrent write can be overwritten with older data;
// - READ COMMITTED: at REPEATABLE READ a range UPDATE also takes gap/next-key locks beyond its rows, which
//   blocks inserts at the table's tail (exactly where v1 and v2 insert) for the batch's duration;
// - short lock waits (1 s) and retries with backoff on deadlock, lock-wait timeout, SQLITE_BUSY or a lost
//   connection, with half the keys each time: contention slows the run down, it never fails it;
// - the checkpoint moves in the batch's own transaction (checkpoint.ts): kill -9 it at any moment and run it
//   again, it resumes after the last committed batch and ends with the same result;
// - the key range is fixed when the run starts, so it terminates however fast rows are written (the failure
//   reported in pgroll#583); rows written later are dual-written by v2, or v1's, found by verify;
// - throttled and steered at runtime (throttle.ts, controls.ts), with progress and a summary (progress.ts);
// - keys of any type (key-range.ts): integer keys in numeric ranges, string keys (uuid) by keyset pagination,
//   where progress counts rows against the count taken at the start;
// - with --workers N (integer keys, the SQL form, MySQL/MariaDB), N consecutive batches run at once on their own
//   connections (one UPDATE uses one InnoDB thread; the database has more), and commit in key order: a batch moves
//   the one checkpoint only after the batch before it committed, so kill -9 still leaves every key below the
//   checkpoint done and nothing above it half-counted;
// - a mapping whose transform only code can compute (mapping.sql null) is backfilled in the app (app-side.ts):
//   rows read, transformed, and written each with a compare-and-set, in the same batches and checkpoints.
import type { Database, Executor } from '../db/connection.ts';
import { isDatabaseUnavailable, isTransient } from '../db/errors.ts';
import type { Key } from '../mapping-contract.ts';
import { mapping as activeMapping } from '../schema-mapping.ts';
import type { SchemaMapping } from '../schema-mapping.ts';
import { appSideBackfill, ROW_ATTEMPTS } from './app-side.ts';
import { backfillBatchSql } from './batch-statements.ts';
import type { BackfillDirection } from './batch-statements.ts';
import { batchSizer } from './batch-size.ts';
import { backfillRuns, ownerMayBeRunning, processOwner } from './checkpoint.ts';
import type { BackfillRun } from './checkpoint.ts';
import type { RuntimeControls } from './controls.ts';
import { keyBounds, nextStringBatch, rangeParams, stringKeyed } from './key-range.ts';
import type { BatchRange } from './key-range.ts';
import type { RepairScope } from './repair-scope.ts';
import type { BackfillSummary, ProgressReporter } from './progress.ts';
import { redoPressureCheck, replicaLagCheck, threadsRunningCheck, throttleChecks } from './throttle.ts';

export interface BackfillOptions {
  direction: BackfillDirection;
  /** Keys per batch, or null to adapt toward targetBatchMs (starting at 1000). */
  batch?: number | null;
  targetBatchMs?: number;
  /** Hard throttle: after a batch longer than this, wait as long again. */
  maxBatchMs?: number;
  sleepMs?: number;
  /** After each batch, wait this many times as long as it took (gh-ost's --nice-ratio; 0: no wait). */
  niceRatio?: number;
  /** MySQL: wait while Threads_running is above this (0: never). */
  maxThreadsRunning?: number;
  /** InnoDB: wait while the checkpoint age is above this percent of its maximum (0: never). */
  maxRedoPercent?: number;
  /** With a replica: wait while it lags more than this. */
  maxLagMs?: number;
  replica?: Database | null;
  /** Abandon an unfinished run and start a new one over the current key range. */
  restart?: boolean;
  /** Which drifted rows may be copied (shared/rollout/way-back.ts); default: every drifted row. */
  scope?: RepairScope;
  /** The mapping to backfill (the active one unless a test says otherwise). */
  mapping?: SchemaMapping;
  /** Batches in flight at once (integer keys, the SQL form, MySQL/MariaDB; elsewhere 1). Default 1. */
  workers?: number;
}

export interface BackfillDeps {
  controls: RuntimeControls;
  progress: ProgressReporter;
  /** Who runs it (host:pid by default), recorded with every checkpoint. */
  owner?: string;
  /** Stop after the current batch (SIGINT); the run stays resumable. */
  signal?: AbortSignal;
}

export const DEFAULT_TARGET_BATCH_MS = 50;
/**
 * `--unthrottled` (as fast as the database goes, for a table nobody else is writing much): two batches in flight
 * and batches of ~150 ms (pt-online-schema-change aims at 500). Measured on 200,000 rows, 2-core MariaDB 10.11
 * (make bench's backfill part, two rounds each, per-round ratios to one UPDATE): 1 worker at 50 ms 0.85-0.86x,
 * 2 workers 0.88-1.01x, 3 workers 0.95-1.15x, 1 worker at 150 ms 0.77-1.15x, 2 workers at 150 ms 1.14-1.15x.
 */
export const UNTHROTTLED_WORKERS = 2;
export const UNTHROTTLED_TARGET_BATCH_MS = 150;
export const DEFAULT_MAX_BATCH_MS = 2000;
export const DEFAULT_MAX_THREADS_RUNNING = 25;
/** Half the way to InnoDB's synchronous flushing: the page cleaner catches up while the backfill waits. */
export const DEFAULT_MAX_REDO_PERCENT = 50;
/**
 * A rest nineteen times as long as the batch took: the backfill holds the database at most a twentieth of the
 * time. On a 2-core machine whose disk keeps up (the redo wait never engages there, so the rest is all that leaves
 * the CPU to the app), live p99 during it was 2.2-4.0x at 1, 1.12-1.59x at 4 (8,500-13,600 rows/s), 1.11-1.54x at
 * 9 (5,000-5,500 rows/s), and 0.38-1.30x over six rounds at 19 (2,800-3,300 rows/s: a million rows in about six
 * minutes), the only one to meet the 1.3x goal in every round (make bench's live part; docs/performance.md,
 * 3 Dec). A team whose p99 has room trades it back with --nice-ratio 4 (three times as fast) or --unthrottled.
 */
export const DEFAULT_NICE_RATIO = 19;
/** gh-ost's --max-lag-millis default. */
export const DEFAULT_MAX_LAG_MS = 1500;
/** A batch lock wait this short gives way to the app's writes instead of queueing behind them (pt-osc does 1 s too). */
const BATCH_LOCK_WAIT_S = 1;
const BATCH_ATTEMPTS = 20;
/** The most batches in flight at once: the command's pool has 5 connections, one kept for heartbeats and flags. */
export const MAX_WORKERS = 4;
const ROW_ATTEMPTS_TEXT = `${ROW_ATTEMPTS} compare-and-sets`;

/** Another process moved the checkpoint of the run this one works on. */
export class BackfillConflict extends Error {}

/** A batch waited longer than a lock wait for the batch before it to commit: it rolls back (its locks go) and tries again. */
class TurnTimeout extends Error {}

export async function runBackfill(db: Database, options: BackfillOptions, deps: BackfillDeps): Promise<BackfillSummary> {
  const {
    direction,
    batch = null,
    targetBatchMs = DEFAULT_TARGET_BATCH_MS,
    maxBatchMs = DEFAULT_MAX_BATCH_MS,
    sleepMs = 0,
    niceRatio = DEFAULT_NICE_RATIO,
    maxThreadsRunning = DEFAULT_MAX_THREADS_RUNNING,
    maxRedoPercent = DEFAULT_MAX_REDO_PERCENT,
    maxLagMs = DEFAULT_MAX_LAG_MS,
    replica = null,
    restart = false,
    scope,
    mapping = activeMapping,
    workers = 1,
  } = options;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new RangeError(`workers must be an integer from 1 to ${MAX_WORKERS} (got ${workers})`);
  const { controls, progress, owner = processOwner(), signal } = deps;
  const runs = backfillRuns(db);
  const run = await claimRun(db, mapping, direction, { restart, owner });
  // String keys: the numbers count rows (checkpoint.ts) and the keys walk by keyset pagination.
  const keyed = run.stringKeys ?? null;
  const unit = keyed ? ('rows' as const) : ('keys' as const);
  let after: string | null = keyed?.done ?? null;
  let walked = keyed !== null && after === keyed.end;
  const resumedFrom: Key | null = keyed ? (run.batches > 0 ? after : null) : run.nextId > run.rangeStart && run.batches > 0 ? run.nextId : null;
  if (keyed && resumedFrom !== null) progress.note(`resuming backfill run #${run.id} (${direction}) after key ${resumedFrom} of ${keyed.start}..${keyed.end} (row ${run.nextId} of ~${run.rangeEnd})`);
  else if (keyed) progress.note(`backfill run #${run.id} (${direction}) over keys ${keyed.start}..${keyed.end} (~${run.rangeEnd} rows)`);
  else if (resumedFrom !== null) progress.note(`resuming backfill run #${run.id} (${direction}) at key ${resumedFrom} of ${run.rangeStart}..${run.rangeEnd}`);
  else progress.note(`backfill run #${run.id} (${direction}) over keys ${run.rangeStart}..${run.rangeEnd}`);

  // SQL form: one UPDATE per batch inside the database; none: read, transform in code, compare-and-set.
  const appSide = mapping.sql === null ? appSideBackfill(db.dialect, mapping, direction, scope) : null;
  const sql = appSide ? null : backfillBatchSql(db.dialect, direction, scope, mapping);
  const sqlAfterKey = appSide || !keyed ? null : backfillBatchSql(db.dialect, direction, scope, mapping, { lowerExclusive: true });
  const sizer = batchSizer({ fixed: batch, targetMs: targetBatchMs });
  // Batches in flight at once: only where a batch is one range UPDATE on a server with concurrent transactions.
  const lanesUnavailable = keyed ? 'string keys are walked one batch after another' : appSide ? 'the app-side backfill' : db.dialect.name === 'sqlite' ? 'SQLite writes one transaction at a time' : null;
  const lanes = lanesUnavailable === null ? workers : 1;
  if (workers > 1 && lanesUnavailable !== null) progress.note(`${workers} workers asked for, 1 used: ${lanesUnavailable}`);
  else if (lanes > 1) progress.note(`${lanes} batches in flight at once, committed in key order`);
  const started = performance.now();
  let next = run.nextId;
  let rowsChanged = run.rowsChanged;
  let rowsChangedThisProcess = 0;
  let batches = run.batches;
  let retries = run.retries;
  let rowRetries = 0;
  let throttledMs = 0;
  let cooldown: { until: number; reason: string } | null = null;
  let interrupted = false;
  let heartbeatAt = performance.now();
  /** Keeps the run visibly alive while it waits (and gives the replica-lag probe a fresh timestamp). */
  const heartbeat = async () => {
    heartbeatAt = performance.now();
    if (!(await runs.heartbeat(run.id, next, owner))) throw new BackfillConflict(`backfill run #${run.id} was taken over by another process while this one waited; this one stops`);
  };
  const externalChecks = throttleChecks([
    threadsRunningCheck(db, maxThreadsRunning),
    await redoPressureCheck(db, maxRedoPercent),
    replicaLagCheck(replica, () => run.id, maxLagMs, { freshHeartbeat: async () => (performance.now() - heartbeatAt > 50 ? heartbeat() : undefined) }),
  ]);

  const snapshot = (throttle: string | null) => ({
    runId: run.id,
    direction,
    rangeStart: run.rangeStart,
    rangeEnd: run.rangeEnd,
    nextId: next,
    rowsChanged,
    keysThisProcess: next - run.nextId,
    elapsedMs: performance.now() - started,
    batchSize: controls.batchSize ?? sizer.current(),
    throttle,
    unit,
  });

  const throttleReason = async (): Promise<string | null> => {
    if (controls.paused) return 'paused by flag backfill-pause';
    if (cooldown && performance.now() < cooldown.until) return cooldown.reason;
    cooldown = null;
    return externalChecks();
  };

  /**
   * One batch in one transaction, retried on transient errors with half the keys each time. `to`: the next
   * position (integer keys: the next key; string keys: the next row's); `done`: the last key covered (string
   * keys), or null when no key was left (the walk is over). `turn`: resolves when the batch before this one has
   * committed (batches in flight at once); this one moves the checkpoint only then.
   */
  const runBatch = async (from: number, keys: number, turn: Promise<void> | null = null): Promise<{ to: number; changed: number; done: string | null }> => {
    for (let attempt = 1; ; attempt++) {
      let label = keyed ? `after ${after ?? '(start)'}` : `${from}..${Math.min(run.rangeEnd, from + keys - 1)}`;
      try {
        let range: BatchRange;
        let to: number;
        if (keyed) {
          const window = await nextStringBatch(db, mapping, { after, start: keyed.start, end: keyed.end, size: keys });
          if (window === null) return { to: from, changed: 0, done: null };
          range = window.range;
          to = from + window.rows;
          label = `${window.range.lowerExclusive ? '>' : '>='} ${String(window.range.lower)} .. ${String(window.range.upper)}`;
        } else {
          range = { lower: from, lowerExclusive: false, upper: Math.min(run.rangeEnd, from + keys - 1) };
          to = (range.upper as number) + 1;
        }
        // App-side: read and transform outside the transaction (no lock is held while the app computes).
        const fixes = appSide ? await appSide.read(db, range) : [];
        const changed = await db.transaction(
          async (tx: Executor) => {
            if (db.dialect.name !== 'sqlite') await tx.run(`SET SESSION innodb_lock_wait_timeout = ${BATCH_LOCK_WAIT_S}`);
            let matched: number;
            if (appSide) {
              const written = await appSide.write(tx, fixes);
              matched = written.changed;
              rowRetries += written.rowRetries;
              if (written.rowsLeft > 0) progress.note(`batch ${label}: ${written.rowsLeft} rows kept changing under ${ROW_ATTEMPTS_TEXT}; left for verify and the next run`);
            } else {
              matched = await tx.update(range.lowerExclusive ? sqlAfterKey! : sql!, rangeParams(range));
            }
            if (turn) await turnOrTimeout(turn, BATCH_LOCK_WAIT_S * 1000);
            const doneKey = keyed ? String(range.upper) : undefined;
            const moved = await runs.checkpoint(tx, run.id, { from, to, changed: matched, retries: attempt - 1, owner, doneKey });
            if (!moved) throw new BackfillConflict(`backfill run #${run.id} was moved past ${keyed ? `row ${from}` : `key ${from}`} by another process; this one stops (its last batch was rolled back)`);
            return matched;
          },
          { isolation: 'READ COMMITTED' },
        );
        retries += attempt - 1;
        return { to, changed, done: keyed ? String(range.upper) : null };
      } catch (err) {
        if (err instanceof BackfillConflict || err instanceof EarlierBatchFailed) throw err;
        if (attempt >= BATCH_ATTEMPTS || !(isTransient(err) || isDatabaseUnavailable(err) || err instanceof TurnTimeout)) {
          throw new Error(`batch ${label} failed (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}; run the backfill again to resume from ${keyed ? `after key ${after ?? '(start)'}` : `key ${from}`}`);
        }
        keys = Math.min(keys, sizer.shrink());
        progress.note(`batch ${label}: ${(err as Error).message.split('\n')[0]}; retrying with ${keys} keys (attempt ${attempt + 1}/${BATCH_ATTEMPTS})`);
        await delay(Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  };

  /** After a batch (or the batches in flight) took `workMs`: the sleep and the nice-ratio rest, unless the walk is over. */
  async function rest(workMs: number): Promise<void> {
    const pause = (controls.sleepMs ?? sleepMs) + niceRatio * workMs;
    if (pause > 0 && (keyed ? !walked : next <= run.rangeEnd)) {
      const restStarted = performance.now();
      await delay(pause, signal);
      throttledMs += performance.now() - restStarted;
    }
  }

  /**
   * Keys from..end-1 (integer keys), as many batches as retries make it (a retry halves the keys, and the rest of
   * the window follows), the first moving the checkpoint only after `turn`.
   */
  const runWindow = async (from: number, end: number, turn: Promise<void> | null): Promise<{ changed: number; batches: number; ms: number }> => {
    const windowStarted = performance.now();
    let changed = 0;
    let count = 0;
    for (let at = from; at < end; count++) {
      const result = await runBatch(at, end - at, turn);
      at = result.to;
      changed += result.changed;
    }
    return { changed, batches: count, ms: performance.now() - windowStarted };
  };

  /** `lanes` consecutive windows of `keys` keys at once, committed in key order; the position after the last. */
  const runWindows = async (keys: number): Promise<{ to: number; changed: number; batches: number; firstMs: number }> => {
    const windows: { from: number; end: number }[] = [];
    for (let lane = 0, at = next; lane < lanes && at <= run.rangeEnd; lane++, at = Math.min(run.rangeEnd + 1, at + keys)) windows.push({ from: at, end: Math.min(run.rangeEnd + 1, at + keys) });
    let previous: Promise<void> | null = null;
    const inFlight = windows.map(({ from, end }) => {
      const turn = previous === null ? null : previous.catch((err: unknown) => Promise.reject(new EarlierBatchFailed(err)));
      turn?.catch(() => undefined); // a window that fails before its turn never awaits it
      const window = runWindow(from, end, turn);
      previous = window.then(() => undefined);
      previous.catch(() => undefined);
      return window;
    });
    // Every transaction ends (committed, or rolled back after the one before failed) before the first failure, in key order, is reported.
    const settled = await Promise.allSettled(inFlight);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof EarlierBatchFailed));
    if (failed) throw failed.reason;
    const done = settled.map((s) => (s as PromiseFulfilledResult<{ changed: number; batches: number; ms: number }>).value);
    return { to: windows.at(-1)!.end, changed: done.reduce((sum, w) => sum + w.changed, 0), batches: done.reduce((sum, w) => sum + w.batches, 0), firstMs: done[0]!.ms };
  };

  while (keyed ? !walked : next <= run.rangeEnd) {
    if (signal?.aborted) {
      interrupted = true;
      break;
    }
    await controls.refresh();
    const reason = await throttleReason();
    if (reason) {
      progress.update(snapshot(reason));
      if (performance.now() - heartbeatAt >= 1000) await heartbeat();
      const waitStarted = performance.now();
      await delay(100, signal);
      throttledMs += performance.now() - waitStarted;
      continue;
    }
    const keys = controls.batchSize ?? sizer.current();
    const batchStarted = performance.now();
    if (lanes > 1) {
      const round = await runWindows(keys);
      const roundMs = performance.now() - batchStarted;
      sizer.record(Math.min(keys, round.to - next), round.firstMs);
      if (roundMs > maxBatchMs) cooldown = { until: performance.now() + roundMs, reason: `last batches took ${Math.round(roundMs)} ms > ${maxBatchMs} ms` };
      next = round.to;
      heartbeatAt = performance.now();
      rowsChanged += round.changed;
      rowsChangedThisProcess += round.changed;
      batches += round.batches;
      progress.update(snapshot(null));
      await rest(roundMs);
      continue;
    }
    const { to, changed, done } = await runBatch(next, keys);
    if (keyed && done === null) {
      walked = true;
      break;
    }
    const batchMs = performance.now() - batchStarted;
    sizer.record(to - next, batchMs);
    if (batchMs > maxBatchMs) cooldown = { until: performance.now() + batchMs, reason: `last batch took ${Math.round(batchMs)} ms > ${maxBatchMs} ms` };
    next = to;
    if (keyed) {
      after = done;
      walked = done === keyed.end;
    }
    heartbeatAt = performance.now();
    rowsChanged += changed;
    rowsChangedThisProcess += changed;
    batches += 1;
    progress.update(snapshot(null));
    await rest(batchMs);
  }

  if (!interrupted) await runs.finish(run.id, next);
  const summary: BackfillSummary = {
    runId: run.id,
    direction,
    resumedFrom,
    rangeStart: run.rangeStart,
    rangeEnd: run.rangeEnd,
    nextId: next,
    keys: next - run.nextId,
    rowsChanged,
    rowsChangedThisProcess,
    batches,
    retries,
    elapsedMs: performance.now() - started,
    throttledMs,
    interrupted,
    unit,
    stringKeys: keyed ? { ...keyed, done: after } : null,
    rowRetries,
  };
  progress.done(summary);
  return summary;
}

/** The run to work on: the unfinished one (resumed), or a new one over the table's current key range. */
async function claimRun(db: Database, mapping: SchemaMapping, direction: BackfillDirection, { restart, owner }: { restart: boolean; owner: string }): Promise<BackfillRun> {
  const runs = backfillRuns(db);
  const unfinished = await runs.unfinished();
  if (unfinished && restart) {
    await runs.abandon(unfinished.id);
  } else if (unfinished) {
    if (unfinished.direction !== direction) {
      throw new Error(
        `backfill run #${unfinished.id} (${unfinished.direction}) is unfinished: finish it (npm run backfill${unfinished.direction === 'reverse' ? ' -- --reverse' : ''}) or abandon it with --restart`,
      );
    }
    if (unfinished.owner !== owner && unfinished.recentlyUpdated && ownerMayBeRunning(unfinished.owner)) {
      throw new Error(
        `backfill run #${unfinished.id} is in progress (${unfinished.owner}, last checkpoint ${unfinished.updatedAt}): wait for it, pause it with npm run flags -- set backfill-pause true, or stop that process`,
      );
    }
    const nonEmpty = unfinished.rangeEnd >= unfinished.rangeStart;
    if (nonEmpty && (unfinished.stringKeys != null) !== stringKeyed(mapping)) {
      throw new Error(`backfill run #${unfinished.id} was started over ${unfinished.stringKeys ? 'string' : 'integer'} keys, but ${mapping.id}'s keys are ${mapping.keyType}: abandon it with --restart`);
    }
    return unfinished;
  }
  if (stringKeyed(mapping)) {
    // No arithmetic on these keys: the range is its first and last key, progress the rows counted now.
    const bounds = await keyBounds(db, mapping, { count: true });
    if (bounds === null) return runs.create(direction, { start: 1, end: 0 }, owner);
    return runs.createStringKeyed(direction, { start: String(bounds.start), end: String(bounds.end) }, bounds.rows ?? 0, owner);
  }
  const [bounds] = await db.select<{ lo: number | string | null; hi: number | string | null }>(`SELECT MIN(${mapping.keyColumn}) AS lo, MAX(${mapping.keyColumn}) AS hi FROM ${mapping.table}`);
  const range = bounds?.lo == null || bounds.hi == null ? { start: 1, end: 0 } : { start: Number(bounds.lo), end: Number(bounds.hi) };
  return runs.create(direction, range, owner);
}

/** A batch in flight after one that failed: it rolled back, and the earlier failure is the one reported. */
class EarlierBatchFailed extends Error {
  constructor(readonly earlier: unknown) {
    super('the batch before this one failed');
  }
}

/** Waits for the batch before to commit, at most `ms` (then TurnTimeout: this batch rolls back and retries). */
async function turnOrTimeout(turn: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([turn, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TurnTimeout(`the batch before did not commit within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
