// The sync mode: how the old columns and profile_data are kept in sync while both versions run.
// - app (the default, the seed's pattern): v2 dual-writes; the gap v1 leaves is closed by dual-read, the
//   backfill and verify. From live on, the "up" trigger is installed as a fence (shared/rollout/transitions.ts).
// - trigger (pgroll's method): the database copies every write to the other side (shared/sync/triggers.ts),
//   installed by `SYNC=trigger npm run db:migrate` in the expand phase.
// SYNC is read by db:migrate only; every other command and both apps read the mode from the database, where it
// is a fact in the rollout log (rollout_events, 005-rollout-log: action 'sync', the mode in `changes`), so it
// says when and by whom it was chosen. None recorded means app.
import type { Database } from '../db/connection.ts';
import { dbTime } from '../db/time.ts';
import { isMissingTable } from '../db/errors.ts';
import type { SyncDirection } from './triggers.ts';

export const SYNC_MODES = ['app', 'trigger'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
export const DEFAULT_SYNC_MODE: SyncMode = 'app';

/** The rollout_events action that records the mode. */
export const SYNC_EVENT_ACTION = 'sync';

/** SYNC's value (undefined when unset or empty); anything else is an error naming SYNC. */
export function parseSyncMode(raw: string | undefined): SyncMode | undefined {
  if (raw === undefined || raw === '') return undefined;
  if ((SYNC_MODES as readonly string[]).includes(raw)) return raw as SyncMode;
  throw new Error(`SYNC must be one of ${SYNC_MODES.join(', ')} (got ${JSON.stringify(raw)})`);
}

export interface RecordedSyncMode {
  mode: SyncMode;
  /** When it was recorded (null: never recorded, so the default). */
  recordedAt: string | null;
}

/** The mode as the database records it: the latest sync event, or the default. */
export async function recordedSyncMode(db: Database): Promise<RecordedSyncMode> {
  let rows;
  try {
    rows = await db.select<{ at: unknown; changes: string | null }>('SELECT at, changes FROM rollout_events WHERE action = $1 ORDER BY id DESC LIMIT 1', [SYNC_EVENT_ACTION]);
  } catch (err) {
    if (isMissingTable(err)) return { mode: DEFAULT_SYNC_MODE, recordedAt: null };
    throw err;
  }
  const [row] = rows;
  if (!row) return { mode: DEFAULT_SYNC_MODE, recordedAt: null };
  const mode = (JSON.parse(row.changes ?? '{}') as { sync?: unknown }).sync;
  if (!(SYNC_MODES as readonly unknown[]).includes(mode)) throw new Error(`rollout_events holds an unknown sync mode ${JSON.stringify(mode)}`);
  return { mode: mode as SyncMode, recordedAt: dbTime(row.at) };
}

/**
 * The trigger directions the database should hold in a mode, for a stage in which both sides exist (expand to
 * new-only): both under trigger; under app only "up", and only from live on (`live`: reads trust profile_data),
 * the fence that carries a frozen v1's in-flight write into profile_data.
 */
export function syncDirectionsFor(mode: SyncMode, { live }: { live: boolean }): SyncDirection[] {
  if (mode === 'trigger') return ['up', 'down'];
  return live ? ['up'] : [];
}
