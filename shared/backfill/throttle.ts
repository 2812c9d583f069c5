// When the backfill must wait, gh-ost style: it checks these before a batch, waits while any says so (and its
// progress line says which), and resumes by itself.
// - paused:          the backfill-pause flag;
// - batch time:      the last batch took longer than --max-batch-ms (lock contention, an overloaded server): wait
//                    as long again before the next one (and the adaptive size shrinks);
// - max load:        MySQL's Threads_running above --max-threads-running (the server is busy with real work);
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
