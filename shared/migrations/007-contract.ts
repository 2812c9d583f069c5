// 007-contract (rollout step "contract", the seed's "Decommission the old column"): drops name and email.
// Only `npm run db:contract` runs it (db:migrate never does), and only after its gate passed: stage new-only,
// no v1 alive, a clean dual-mode verify after the last v1 stopped on record, and no row without a valid
// profile_data (shared/rollout/contract-gate.ts). The drop is instant on MariaDB 10.4+/MySQL 8.0.29+ (the same
// clause as 002's ADD COLUMN); SQLite rewrites the table inside BEGIN IMMEDIATE.
//
// Even this step has a way back: down re-adds the columns (nullable, as 006 left them) and fills them from
// profile_data with the reverse backfill, in batches, each computed inside its UPDATE from the row's own current
// profile_data. Both directions are idempotent, so an interrupted up or down can simply run again.
import { runBackfill } from '../backfill/backfill.ts';
import { fixedControls } from '../backfill/controls.ts';
import { silentProgress } from '../backfill/progress.ts';
import type { Database } from '../db/connection.ts';
import { OLD_COLUMNS, USERS_TABLE } from '../schema-mapping.ts';
import { tableColumns } from './columns.ts';
import { runOnlineDdl } from './online-ddl.ts';
import type { Migration } from './types.ts';

/** The old columns as 006-relax-old-columns left them (nullable; new-only rows have no value). */
const READD_TYPES: Record<(typeof OLD_COLUMNS)[number], { mysql: string; sqlite: string }> = {
  name: { mysql: 'VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL', sqlite: 'TEXT NULL' },
  email: { mysql: 'VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL', sqlite: 'TEXT NULL' },
};

export const contract: Migration = {
  name: '007-contract',
  description: `drops ${USERS_TABLE}.${OLD_COLUMNS.join(' and ')} (only npm run db:contract runs it)`,
  contract: true,
  async up({ db, log }) {
    const existing = await tableColumns(db, USERS_TABLE);
    await alterColumns(db, log, OLD_COLUMNS.filter((column) => existing.includes(column)), 'DROP');
  },
  async down({ db, log }) {
    const existing = await tableColumns(db, USERS_TABLE);
    await alterColumns(db, log, OLD_COLUMNS.filter((column) => !existing.includes(column)), 'ADD');
    log(`  filling ${OLD_COLUMNS.join(', ')} from ${USERS_TABLE}.profile_data (reverse backfill)`);
    const summary = await runBackfill(db, { direction: 'reverse' }, { controls: fixedControls(), progress: silentProgress(), owner: 'migration 007-contract down' });
    log(`  reverse backfill run #${summary.runId}: ${summary.rowsChanged} rows filled`);
  },
};

async function alterColumns(db: Database, log: (line: string) => void, columns: readonly (typeof OLD_COLUMNS)[number][], action: 'ADD' | 'DROP'): Promise<void> {
  if (columns.length === 0) return;
  const clause = (column: (typeof OLD_COLUMNS)[number]) =>
    action === 'DROP' ? `DROP COLUMN ${column}` : `ADD COLUMN ${column} ${db.dialect.name === 'sqlite' ? READD_TYPES[column].sqlite : READD_TYPES[column].mysql}`;
  if (db.dialect.name === 'sqlite') {
    // SQLite takes one column per ALTER; one transaction keeps the table from being seen half-changed.
    for (const column of columns) log(`  ALTER TABLE ${USERS_TABLE} ${clause(column)}`);
    await db.transaction(async (tx) => {
      for (const column of columns) await tx.run(`ALTER TABLE ${USERS_TABLE} ${clause(column)}`);
    });
    return;
  }
  const alter = `ALTER TABLE ${USERS_TABLE} ${columns.map(clause).join(', ')}, ${db.dialect.instantAddColumn}`;
  log(`  ${alter}`);
  await runOnlineDdl(db, alter, { log });
}
