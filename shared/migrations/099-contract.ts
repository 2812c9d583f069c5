// 099-contract (rollout step "contract", the checklist's "Decommission the old column"): drops name and email.
// Only `npm run db:contract` runs it (db:migrate never does), and only after its gate passed: stage new-only,
// no v1 alive, a clean dual-mode verify after the last v1 stopped on record, and no row without a valid
// profile_data (shared/rollout/contract-gate.ts). The drop is instant on MariaDB 10.4+/MySQL 8.0.29+ (the same
// clause as 002's ADD COLUMN); SQLite rewrites the table inside BEGIN IMMEDIATE.
//
// Even this step has a way back: down re-adds the columns (nullable, as 007 left them) and fills them from
// profile_data with the reverse backfill, in batches, each computed inside its UPDATE from the row's own current
// profile_data (context.reverseBackfill). Both directions are idempotent, so an interrupted up or down can simply run again.
// The sync triggers (shared/sync/triggers.ts) name the old columns: up drops them first (on MariaDB a trigger
// naming a dropped column fails every later write; SQLite refuses the drop), and down re-installs, after the
// refill, those the recorded mode holds in new-only (both under SYNC=trigger; under app the "up" fence).
import type { Database } from '../db/connection.ts';
import { mapping } from '../schema-mapping.ts';
import { recordedSyncMode, syncDirectionsFor } from '../sync/mode.ts';
import { dropSyncTriggers, installSyncTriggers, SYNC_DIRECTIONS } from '../sync/triggers.ts';
import { mysqlColumnType, tableColumns } from './columns.ts';
import { runOnlineDdl } from './online-ddl.ts';
import type { Migration } from './types.ts';

export const contract: Migration = {
  name: '099-contract',
  description: `drops ${mapping.table}.${mapping.oldColumnNames.join(' and ')} (only npm run db:contract runs it)`,
  contract: true,
  async up({ db, log }) {
    await dropSyncTriggers(db, SYNC_DIRECTIONS, { log });
    const existing = await tableColumns(db, mapping.table);
    await alterColumns(db, log, mapping.oldColumnNames.filter((column) => existing.includes(column)), 'DROP');
  },
  async down({ db, log, reverseBackfill }) {
    const existing = await tableColumns(db, mapping.table);
    await alterColumns(db, log, mapping.oldColumnNames.filter((column) => !existing.includes(column)), 'ADD');
    log(`  filling ${mapping.oldColumnNames.join(', ')} from ${mapping.table}.${mapping.newColumn} (reverse backfill)`);
    const summary = await reverseBackfill('migration 099-contract down');
    log(`  reverse backfill run #${summary.runId}: ${summary.rowsChanged} rows filled`);
    await installSyncTriggers(db, syncDirectionsFor((await recordedSyncMode(db)).mode, { live: true }), { log });
  },
};

/** The old columns as 007-relax-old-columns left them (nullable; new-only rows have no value), in the table's collation. */
async function readdType(db: Database, name: string): Promise<string> {
  const column = mapping.oldColumns.find((candidate) => candidate.name === name);
  if (!column) throw new Error(`mapping ${mapping.id} has no old column ${name}`);
  return `${db.dialect.name === 'sqlite' ? column.sqliteType : await mysqlColumnType(db, mapping.table, column)} NULL`;
}

async function alterColumns(db: Database, log: (line: string) => void, columns: readonly string[], action: 'ADD' | 'DROP'): Promise<void> {
  if (columns.length === 0) return;
  const types = new Map<string, string>();
  if (action === 'ADD') for (const column of columns) types.set(column, await readdType(db, column));
  const clause = (column: string) => (action === 'DROP' ? `DROP COLUMN ${column}` : `ADD COLUMN ${column} ${types.get(column)!}`);
  if (db.dialect.name === 'sqlite') {
    // SQLite takes one column per ALTER; one transaction keeps the table from being seen half-changed.
    for (const column of columns) log(`  ALTER TABLE ${mapping.table} ${clause(column)}`);
    await db.transaction(async (tx) => {
      for (const column of columns) await tx.run(`ALTER TABLE ${mapping.table} ${clause(column)}`);
    });
    return;
  }
  const alter = `ALTER TABLE ${mapping.table} ${columns.map(clause).join(', ')}, ${db.dialect.instantAddColumn}`;
  log(`  ${alter}`);
  await runOnlineDdl(db, alter, { log });
}
