import type { Database } from '../db/connection.ts';

export interface MigrationContext {
  db: Database;
  log: (line: string) => void;
}

/** A numbered schema change with its way back. `contract` marks the destructive last step, which only db:contract runs. */
export interface Migration {
  name: string;
  description: string;
  contract?: boolean;
  up(context: MigrationContext): Promise<void>;
  down(context: MigrationContext): Promise<void>;
}
