// When the backfill must wait, gh-ost style: it checks these before a batch, waits while any says so (and its
// progress line says which), and resumes by itself.
// - paused:          the backfill-pause flag;
// - batch time:      the last batch took longer than --max-batch-ms (lock contention, an overloaded server): wait
//                    as long again before the next one (and the adaptive size shrinks);
// - max load:        MySQL's Threads_running above --max-threads-running (the server is busy with real work);
// - redo pressure:    InnoDB's checkpoint age above --max-redo-pct of the most it may reach: there InnoDB stops
//                    every writer to flush pages synchronously (measured here: a backfill at full speed took the
//                    age to its 80.8 MB maximum within 2 s, and a steady load's p99 to 4-7x). The backfill waits for the page
//                    cleaner instead, so the app's writes never meet that wall; only while the age is falling, so a
//                    server that stays high while little is written never stops it (redoPressureCheck);
// - replica lag:     with DATABASE_REPLICA_URL, the replica is more than --max-lag-ms behind. Measured like
//                    pt-heartbeat: the run's updated_at (written with every checkpoint, or just before the probe
//                    when the last write is older) as the replica sees it, against the replica's clock (this
//                    assumes the primary's and the replica's clocks agree, as pt-heartbeat does).
import type { Database } from '../db/connection.ts';

/** Returns why the backfill must wait now, or null. */
export type ThrottleCheck = () => Promise<string | null>;

export function threadsRunningCheck(db: Database, max: number): ThrottleCheck | null {
  if (db.dialect.name === 'sqlite' || max <= 0) return null;
  return async () => {
    const [row] = await db.select<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Threads_running'");
    const running = Number(row?.Value ?? 0);
    return running > max ? `max load: Threads_running ${running} > ${max}` : null;
  };
}

/**
 * The redo log's fill: InnoDB's checkpoint age against its maximum, in percent. MariaDB and Percona report both
 * (Innodb_checkpoint_age, Innodb_checkpoint_max_age); MySQL 8.0.30+ reports the LSNs and the capacity
 * (Innodb_redo_log_current_lsn, Innodb_redo_log_checkpoint_lsn, Innodb_redo_log_capacity_resized; only checked
 * offline here: no MySQL 8 server on this machine). null when the server reports neither (the check then stays off).
 */
export async function redoFillPercent(db: Database): Promise<number | null> {
  return redoFillFromStatus(
    await db.select<{ Variable_name: string; Value: string }>(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_checkpoint_age', 'Innodb_checkpoint_max_age', 'Innodb_redo_log_current_lsn', 'Innodb_redo_log_checkpoint_lsn', 'Innodb_redo_log_capacity_resized')",
    ),
  );
}

/** The fill from SHOW GLOBAL STATUS rows (either server's names), or null when they do not say. */
export function redoFillFromStatus(rows: { Variable_name: string; Value: string }[]): number | null {
  const status = new Map(rows.map((row) => [row.Variable_name.toLowerCase(), Number(row.Value)]));
  const [age, maxAge] = [status.get('innodb_checkpoint_age'), status.get('innodb_checkpoint_max_age')];
  if (age !== undefined && Number.isFinite(age) && maxAge) return (100 * age) / maxAge;
  const [current, checkpoint, capacity] = ['innodb_redo_log_current_lsn', 'innodb_redo_log_checkpoint_lsn', 'innodb_redo_log_capacity_resized'].map((name) => status.get(name));
  if (current !== undefined && checkpoint !== undefined && Number.isFinite(current - checkpoint) && capacity) return (100 * (current - checkpoint)) / capacity;
  return null;
}

/**
 * Waits while the fill is above `maxPercent` and falling: the page cleaner is catching up, so a rest now spares
 * the app's writes. Above the limit and not falling, it does not wait: MariaDB 10.5+ flushes in proportion to
 * the redo being written, so a server left at a high checkpoint age by earlier writes stays there while little
 * is written (seen here at 83-85% of the maximum for minutes on an idle server), and a wait for it to go down
 * would never end (a short demo's backfill waited 4 minutes for it, until the test gave up).
 */
export async function redoPressureCheck(db: Database, maxPercent: number, readFill: () => Promise<number | null> = () => redoFillPercent(db)): Promise<ThrottleCheck | null> {
  if (db.dialect.name === 'sqlite' || maxPercent <= 0) return null;
  if ((await readFill()) === null) return null;
  let previous: number | null = null;
  return async () => {
    const fill = await readFill();
    const falling = fill !== null && previous !== null && fill < previous - REDO_FALL_POINTS;
    previous = fill;
    return fill !== null && fill > maxPercent && falling ? `redo pressure: checkpoint age ${Math.round(fill)}% of InnoDB's maximum > ${maxPercent}%, falling` : null;
  };
}

/** How much the fill must have dropped since the last probe (250 ms before) to count as falling. */
const REDO_FALL_POINTS = 0.1;

export function replicaLagCheck(replica: Database | null, runId: () => number, maxLagMs: number, { freshHeartbeat }: { freshHeartbeat: () => Promise<void> }): ThrottleCheck | null {
  if (!replica) return null;
  return async () => {
    // Measure against a heartbeat written just now, so the figure is the replica's delay, not our own idle time.
    await freshHeartbeat();
    const [row] = await replica.select<{ lag_ms: number | string | null }>(
      'SELECT TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(3)) / 1000 AS lag_ms FROM backfill_runs WHERE id = $1',
      [runId()],
    );
    if (!row || row.lag_ms === null) return `replica lag: the replica has not seen backfill run #${runId()} yet`;
    const lagMs = Math.round(Number(row.lag_ms));
    return lagMs > maxLagMs ? `replica lag ${lagMs} ms > ${maxLagMs} ms` : null;
  };
}

/** Runs the checks at most every `everyMs` (a probe is a round trip), remembering the last answer in between. */
export function throttleChecks(checks: (ThrottleCheck | null)[], { everyMs = 250 }: { everyMs?: number } = {}) {
  const active = checks.filter((check): check is ThrottleCheck => check !== null);
  let checkedAt = -Infinity;
  let reason: string | null = null;
  return async (): Promise<string | null> => {
    if (active.length === 0) return null;
    if (performance.now() - checkedAt < everyMs) return reason;
    checkedAt = performance.now();
    reason = null;
    for (const check of active) {
      reason = await check();
      if (reason) break;
    }
    return reason;
  };
}
