// The instance registry (checklist: "know which instances are running which version"). Every instance of
// every version registers a row at start, heartbeats with the database clock, reports the flag-set version it
// has loaded, and marks itself stopped on shutdown. Rows are kept as history: "has any v1 been alive since
// the last clean verify?" must stay answerable after the v1s are gone. An instance killed with -9 never marks
// itself stopped; it stops being alive on its own once it misses 3 heartbeats.
import { performance } from 'node:perf_hooks';
import type { Database } from '../db/connection.ts';
import { INSTANCE_STRATEGY_COLUMN } from '../migrations/006-instance-strategy.ts';
import { tableColumns } from '../migrations/columns.ts';
import { dbTime } from '../db/time.ts';

/** An instance is alive while its last heartbeat is younger than this many of its heartbeat intervals. */
export const ALIVE_HEARTBEATS = 3;

export interface InstanceInfo {
  instanceId: string;
  appVersion: string;
  address: string;
  pid: number;
  heartbeatMs: number;
  /** v2's DUAL_WRITE_STRATEGY (null for v1): recorded once 006-instance-strategy is applied. */
  dualWriteStrategy?: string | null;
}

export interface InstanceRow extends InstanceInfo {
  rowId: number;
  startedAt: string;
  lastSeen: string;
  stoppedAt: string | null;
  flagSetVersion: number | null;
  alive: boolean;
  /** null or absent: v1, or an instance that registered before 006-instance-strategy (its strategy is unknown). */
  dualWriteStrategy?: string | null;
}

type RawRow = {
  row_id: number | string;
  instance_id: string;
  app_version: string;
  address: string;
  pid: number | string;
  heartbeat_ms: number | string;
  started_at: string | Date;
  last_seen: string | Date;
  stopped_at: string | Date | null;
  flag_set_version: number | string | null;
  alive: number | string | boolean;
  /** Absent before 006-instance-strategy. */
  dual_write_strategy?: string | null;
};

export function instanceRegistry(db: Database) {
  const { now } = db.dialect;
  const aliveExpression = `(stopped_at IS NULL AND last_seen >= ${db.dialect.nowMinusMs(`${ALIVE_HEARTBEATS} * heartbeat_ms`)})`;
  // `*`: the columns later migrations add (006's dual_write_strategy) are read when they exist.
  const columns = `*,
    CASE WHEN ${aliveExpression} THEN 1 ELSE 0 END AS alive`;
  const toRow = (r: RawRow): InstanceRow => ({
    rowId: Number(r.row_id),
    instanceId: r.instance_id,
    appVersion: r.app_version,
    address: r.address,
    pid: Number(r.pid),
    heartbeatMs: Number(r.heartbeat_ms),
    startedAt: dbTime(r.started_at),
    lastSeen: dbTime(r.last_seen),
    stoppedAt: r.stopped_at === null ? null : dbTime(r.stopped_at),
    flagSetVersion: r.flag_set_version === null ? null : Number(r.flag_set_version),
    alive: Number(r.alive) === 1,
    dualWriteStrategy: r.dual_write_strategy ?? null,
  });

  return {
    async register(info: InstanceInfo, flagSetVersion: number | null): Promise<number> {
      // Before 006-instance-strategy there is no column to report the strategy in.
      const strategy = (await tableColumns(db, 'app_instances')).includes(INSTANCE_STRATEGY_COLUMN) ? [info.dualWriteStrategy ?? null] : [];
      return db.insert(
        `INSERT INTO app_instances (instance_id, app_version, address, pid, heartbeat_ms, started_at, last_seen, flag_set_version${strategy.length ? `, ${INSTANCE_STRATEGY_COLUMN}` : ''})
         VALUES ($1, $2, $3, $4, $5, ${now}, ${now}, $6${strategy.length ? ', $7' : ''})`,
        [info.instanceId, info.appVersion, info.address, info.pid, info.heartbeatMs, flagSetVersion, ...strategy],
      );
    },
    async heartbeat(rowId: number, flagSetVersion: number | null): Promise<void> {
      await db.update(`UPDATE app_instances SET last_seen = ${now}, flag_set_version = $1 WHERE row_id = $2 AND stopped_at IS NULL`, [flagSetVersion, rowId]);
    },
    async markStopped(rowId: number): Promise<void> {
      await db.update(`UPDATE app_instances SET stopped_at = ${now}, last_seen = ${now} WHERE row_id = $1`, [rowId]);
    },
    /** Alive instances, and the most recent stopped or vanished ones (newest first). */
    async list({ recent = 10 }: { recent?: number } = {}): Promise<{ alive: InstanceRow[]; gone: InstanceRow[] }> {
      const alive = await db.select<RawRow>(`SELECT ${columns} FROM app_instances WHERE ${aliveExpression} ORDER BY app_version, started_at`);
      const gone = await db.select<RawRow>(
        `SELECT ${columns} FROM app_instances WHERE NOT ${aliveExpression} ORDER BY last_seen DESC, row_id DESC LIMIT ${Math.max(0, Math.floor(recent))}`,
      );
      return { alive: alive.map(toRow), gone: gone.map(toRow) };
    },
  };
}

export type InstanceRegistry = ReturnType<typeof instanceRegistry>;

/**
 * Heartbeats on a timer until stopped. A heartbeat that fails (database down) or takes longer than timeoutMs
 * (a lock, an overloaded server) is reported; onRenewed(sentAt) runs only after a heartbeat and beforeRenew
 * both succeeded in time, with the moment (performance.now()) the heartbeat was sent. A slow heartbeat does not
 * hold back the next tick's (up to maxInFlight at once): on a starved machine a lease is lost only when no
 * heartbeat sent within the window came back, not when one of them was slow.
 */
export function startHeartbeat(
  registry: InstanceRegistry,
  rowId: number,
  {
    intervalMs,
    timeoutMs,
    maxInFlight = 1,
    flagSetVersion,
    beforeRenew = async () => {},
    onRenewed,
    onError,
  }: {
    intervalMs: number;
    timeoutMs: number;
    maxInFlight?: number;
    flagSetVersion: () => number | null;
    beforeRenew?: () => Promise<void>;
    onRenewed: (sentAt: number) => void;
    onError: (err: unknown) => void;
  },
): { stop(): Promise<void> } {
  const inFlight = new Set<Promise<void>>();
  const beat = async () => {
    const sentAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const renewal = (async () => {
      await registry.heartbeat(rowId, flagSetVersion());
      await beforeRenew();
      if (!timedOut) onRenewed(sentAt);
    })();
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`heartbeat took longer than ${timeoutMs} ms`));
      }, timeoutMs);
    });
    // A hung statement is left to finish or fail on its own; it cannot renew the lease any more.
    renewal.catch(() => {});
    try {
      await Promise.race([renewal, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const timer = setInterval(() => {
    if (inFlight.size >= maxInFlight) return;
    const running: Promise<void> = beat()
      .catch(onError)
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
