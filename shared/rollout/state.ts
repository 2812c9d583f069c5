// Everything the rollout's stage and gates are derived from, read in one place: applied migrations, the flag
// set (and when each flag last changed), the instance registry with its history, the backfill checkpoints,
// the verify history and the rollout log. Nothing here is stored as "the stage": the stage is a function of
// these facts (stages.ts), so it can never disagree with them.
import { backfillRuns } from '../backfill/checkpoint.ts';
import type { BackfillRun } from '../backfill/checkpoint.ts';
import type { Database } from '../db/connection.ts';
import { isMissingTable } from '../db/errors.ts';
import { readFlagSet } from '../flags/store.ts';
import type { FlagName, FlagValues } from '../flags/registry.ts';
import { appliedMigrationNames } from '../migrations/applied.ts';
import { ALIVE_HEARTBEATS, instanceRegistry } from '../registry/instances.ts';
import type { InstanceRow } from '../registry/instances.ts';
import { mapping } from '../schema-mapping.ts';
import { verifyResults } from '../verify/results.ts';
import type { VerifyRecord } from '../verify/results.ts';
import { databaseNow, dbTime, formatDbTime, laterOf, parseDbTime } from '../db/time.ts';
import { recordedSyncMode } from '../sync/mode.ts';
import type { RecordedSyncMode } from '../sync/mode.ts';
import { syncTriggerPresence } from '../sync/triggers.ts';
import type { SyncDirection, TriggerPresence } from '../sync/triggers.ts';
import { rolloutEvents } from './events.ts';

export const EXPAND_MIGRATION = '002-expand';
export const RELAX_MIGRATION = '007-relax-old-columns';
/** The last migration of the expand phase: what a rollout applies before its v2 starts (007 waits for new-only). */
export const EXPAND_PHASE_END = '006-string-key-ranges';
export const CONTRACT_MIGRATION = '099-contract';

export interface V1Instance {
  instanceId: string;
  address: string;
  pid: number;
  startedAt: string;
  /** Its last heartbeat (or its recorded stop): a v1 frozen across the live gate shows here once it resumes. */
  lastSeen: string;
  alive: boolean;
  /** When it stopped writing: its recorded stop, or (killed, vanished) when it stopped counting as alive. */
  goneAt: string | null;
}

export interface RolloutState {
  /** The database clock when the state was read. */
  now: string;
  migrations: string[];
  flags: { version: number; values: FlagValues; changedAt: Partial<Record<FlagName, string>> } | null;
  alive: InstanceRow[];
  v1: V1Instance[];
  /** The latest moment any v1 may have written (null: no v1 ever registered, or one is alive). */
  lastV1GoneAt: string | null;
  /** When reads began trusting profile_data (read-trust-new set), while they do. */
  liveSince: string | null;
  /** When the last new-only period ended (write-mode back to dual, loaded by every instance). */
  newOnlyEndedAt: string | null;
  backfill: { unfinished: BackfillRun | null; forwardDone: BackfillRun | null; reverseDone: BackfillRun | null } | null;
  verify: {
    latestDual: VerifyRecord | null;
    latestNewOnly: VerifyRecord | null;
    /** The newest clean dual-mode verify that started after the last v1 was gone (what contract requires). */
    cleanDualSinceV1: VerifyRecord | null;
  } | null;
  usersEmpty: boolean;
  /** The sync mode as recorded, and which sync triggers the catalog holds (absent: not read, as in pure tests: app, none). */
  sync?: RecordedSyncMode & { triggers: Record<SyncDirection, TriggerPresence> };
}

/** Reads a table that a later migration creates; null while it does not exist yet. */
async function ifExists<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (isMissingTable(err)) return null;
    throw err;
  }
}

export async function readRolloutState(db: Database): Promise<RolloutState> {
  const now = await databaseNow(db);
  const migrations = await appliedMigrationNames(db);
  const flagSet = await readFlagSet(db);
  const changedAt = flagSet
    ? Object.fromEntries((await db.select<{ name: string; updated_at: unknown }>('SELECT name, updated_at FROM flags')).map((r) => [r.name, dbTime(r.updated_at)]))
    : {};
  const { alive } = await instanceRegistry(db).list({ recent: 0 });
  const v1 = await v1Instances(db, alive);
  const runs = backfillRuns(db);
  const backfill = await ifExists(async () => ({ unfinished: await runs.unfinished(), forwardDone: await runs.latestDone('forward'), reverseDone: await runs.latestDone('reverse') }));
  const lastV1GoneAt = v1.some((i) => i.alive) ? null : v1.reduce<string | null>((latest, i) => laterOf(latest, i.goneAt), null);
  const results = verifyResults(db);
  const verify = await ifExists(async () => ({
    latestDual: (await results.finished({ mode: 'dual', limit: 1 }))[0] ?? null,
    latestNewOnly: (await results.finished({ mode: 'new-only', limit: 1 }))[0] ?? null,
    cleanDualSinceV1: await results.cleanSince('dual', lastV1GoneAt),
  }));
  const newOnlyEndedEvent = await ifExists(() => rolloutEvents(db).lastCompleted({ from: 'new-only', to: 'live' }));
  const values = flagSet?.values;
  const [anyUser] = await db.select<{ id: number }>(`SELECT ${mapping.keyColumn} AS id FROM ${mapping.table} LIMIT 1`);
  return {
    now,
    migrations,
    flags: flagSet && { version: flagSet.version, values: flagSet.values, changedAt },
    alive,
    v1,
    lastV1GoneAt,
    liveSince: values?.['read-trust-new'] ? (changedAt['read-trust-new'] ?? null) : null,
    // The log's completion time is when every instance had stopped writing new-only; the flag's own change time
    // is the fallback for a change made outside the rollout command.
    newOnlyEndedAt: values?.['write-mode'] === 'dual' ? laterOf(newOnlyEndedEvent?.at ?? null, changedAt['write-mode'] ?? null) : null,
    backfill,
    verify,
    usersEmpty: anyUser === undefined,
    sync: { ...(await recordedSyncMode(db)), triggers: await syncTriggerPresence(db) },
  };
}

async function v1Instances(db: Database, alive: InstanceRow[]): Promise<V1Instance[]> {
  const rows = await db.select<{ row_id: number | string; instance_id: string; address: string; pid: number | string; started_at: unknown; last_seen: unknown; stopped_at: unknown; heartbeat_ms: number | string }>(
    "SELECT row_id, instance_id, address, pid, started_at, last_seen, stopped_at, heartbeat_ms FROM app_instances WHERE app_version = 'v1' ORDER BY row_id",
  );
  const aliveRows = new Set(alive.map((i) => i.rowId));
  return rows.map((r) => {
    const isAlive = aliveRows.has(Number(r.row_id));
    const vanishedAt = formatDbTime(parseDbTime(dbTime(r.last_seen)) + ALIVE_HEARTBEATS * Number(r.heartbeat_ms));
    return {
      instanceId: r.instance_id,
      address: r.address,
      pid: Number(r.pid),
      startedAt: dbTime(r.started_at),
      lastSeen: dbTime(r.last_seen),
      alive: isAlive,
      goneAt: isAlive ? null : r.stopped_at !== null ? dbTime(r.stopped_at) : vanishedAt,
    };
  });
}
