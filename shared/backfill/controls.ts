// Steering a running backfill without restarting it (gh-ost's interactive commands, here as flags in the core's
// registry, so `npm run flags -- set backfill-pause true` or the admin API reach it): pause/resume, batch size
// and the sleep between batches. The backfill re-reads them at most every 250 ms, between batches.
import type { Database } from '../db/connection.ts';
import { readFlagSet } from '../flags/store.ts';

export interface RuntimeControls {
  /** Re-reads the controls when due; call before every batch. */
  refresh(): Promise<void>;
  readonly paused: boolean;
  /** Keys per batch set at runtime, or null: the command line's choice applies. */
  readonly batchSize: number | null;
  /** Sleep between batches set at runtime, or null: the command line's choice applies. */
  readonly sleepMs: number | null;
}

export const CONTROLS_POLL_MS = 250;

export function flagControls(db: Database, { pollMs = CONTROLS_POLL_MS }: { pollMs?: number } = {}): RuntimeControls {
  let readAt = -Infinity;
  let paused = false;
  let batchSize: number | null = null;
  let sleepMs: number | null = null;
  return {
    async refresh() {
      if (performance.now() - readAt < pollMs) return;
      readAt = performance.now();
      const set = await readFlagSet(db);
      if (!set) return;
      paused = set.values['backfill-pause'];
      batchSize = set.values['backfill-batch-size'] > 0 ? set.values['backfill-batch-size'] : null;
      sleepMs = set.values['backfill-sleep-ms'] > 0 ? set.values['backfill-sleep-ms'] : null;
    },
    get paused() {
      return paused;
    },
    get batchSize() {
      return batchSize;
    },
    get sleepMs() {
      return sleepMs;
    },
  };
}

/** No runtime steering (the contract migration's reverse fill runs to the end, whatever the flags say). */
export function fixedControls(): RuntimeControls {
  return { refresh: async () => {}, paused: false, batchSize: null, sleepMs: null };
}
