// The instance registry (checklist: "know which instances are running which version"). Every instance of
// every version registers a row at start, heartbeats with the database clock, reports the flag-set version it
// has loaded, and marks itself stopped on shutdown. Rows are kept as history: "has any v1 been alive since
// the last clean verify?" must stay answerable after the v1s are gone. An instance killed with -9 never marks
// itself stopped; it stops being alive on its own once it misses 3 heartbeats.
import type { Database } from '../db/connection.ts';
import { dbTime } from '../rollout/db-time.ts';

/** An instance is alive while its last heartbeat is younger than this many of its heartbeat intervals. */
export const ALIVE_HEARTBEATS = 3;

export interface InstanceInfo {
  instanceId: string;
  appVersion: string;
  address: string;
  pid: number;
  heartbeatMs: number;
}

export interface InstanceRow extends InstanceInfo {
  rowId: number;
  startedAt: string;
  lastSeen: string;
  stoppedAt: string | null;
  flagSetVersion: number | null;
  alive: boolean;
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
};

export function instanceRegistry(db: Database) {
  const { now } = db.dialect;
  const aliveExpression = `(stopped_at IS NULL AND last_seen >= ${db.dialect.nowMinusMs(`${ALIVE_HEARTBEATS} * heartbeat_ms`)})`;
  const columns = `row_id, instance_id, app_version, address, pid, heartbeat_ms, started_at, last_seen, stopped_at, flag_set_version,
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
  });

  return {
    async register(info: InstanceInfo, flagSetVersion: number | null): Promise<number> {
      return db.insert(
        `INSERT INTO app_instances (instance_id, app_version, address, pid, heartbeat_ms, started_at, last_seen, flag_set_version)
         VALUES ($1, $2, $3, $4, $5, ${now}, ${now}, $6)`,
        [info.instanceId, info.appVersion, info.address, info.pid, info.heartbeatMs, flagSetVersion],
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

/** Heartbeats on a timer until stopped; a failed heartbeat (database down) is logged and retried next tick. */
export function startHeartbeat(
  registry: InstanceRegistry,
  rowId: number,
  { intervalMs, flagSetVersion, onError }: { intervalMs: number; flagSetVersion: () => number | null; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    inFlight ??= registry
      .heartbeat(rowId, flagSetVersion())
      .catch(onError)
      .finally(() => (inFlight = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
