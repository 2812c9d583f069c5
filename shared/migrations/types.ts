import type { Database } from '../db/connection.ts';

export interface MigrationContext {
  db: Database;
  log: (line: string) => void;
  /**
   * Fills the old columns from profile_data, in batches (the reverse backfill): 099-contract's down. The runner
   * hands it in, so a migration file (frozen history) imports no backfill code, which keeps changing.
   */
  reverseBackfill(owner: string): Promise<{ runId: number; rowsChanged: number }>;
}

/** A numbered schema change with its way back. `contract` marks the destructive last step, which only db:contract runs. */
export interface Migration {
  name: string;
  description: string;
  contract?: boolean;
  up(context: MigrationContext): Promise<void>;
  down(context: MigrationContext): Promise<void>;
}
