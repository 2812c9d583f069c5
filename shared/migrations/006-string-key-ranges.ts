// 006-string-key-ranges (rollout steps "backfill" and "verify"): where a backfill checkpoint and a verify range
// keep keys that are not numbers (a mapping with keyType uuid). backfill_runs and verify_runs kept their key
// range in BIGINT columns (003, 004); those stay as they are for integer keys, so an integer run reads and writes
// exactly what it always did. A run over string keys records its keys here instead: the range fixed at its start
// and done_key, every key up to and including which is done (NULL: none yet). Its BIGINT columns then count rows
// in key order (range_start 1, range_end the rows counted at the start, next_id the next row's position), so
// progress reads the same way for both key types without arithmetic on keys.
// Nullable columns, added online like 006's (instant on MySQL/MariaDB, a bounded metadata-lock wait): a running
// backfill heartbeats into backfill_runs.
import { runOnlineDdl } from './online-ddl.ts';
import { supportColumnTypes } from './support-tables.ts';
import type { Migration } from './types.ts';

/** Long enough for any key a mapping may use as text (a UUID is 36). */
const KEY_LENGTH = 255;

const COLUMNS = {
  backfill_runs: ['range_start_key', 'range_end_key', 'done_key'],
  verify_runs: ['range_start_key', 'range_end_key'],
} as const;

export const stringKeyRanges: Migration = {
  name: '006-string-key-ranges',
  description: 'backfill_runs and verify_runs: nullable text key columns for mappings whose keys are strings (uuid)',
  async up({ db, log }) {
    const type = supportColumnTypes(db.dialect).text(KEY_LENGTH);
    const clause = db.dialect.instantAddColumn ? `, ${db.dialect.instantAddColumn}` : '';
    for (const [table, columns] of Object.entries(COLUMNS)) {
      // One statement per column: SQLite's ADD COLUMN takes one at a time.
      for (const column of columns) await runOnlineDdl(db, `ALTER TABLE ${table} ADD COLUMN ${column} ${type} NULL${clause}`, { log });
    }
  },
  async down({ db, log }) {
    for (const [table, columns] of Object.entries(COLUMNS)) {
      for (const column of columns) await runOnlineDdl(db, `ALTER TABLE ${table} DROP COLUMN ${column}`, { log });
    }
  },
};
