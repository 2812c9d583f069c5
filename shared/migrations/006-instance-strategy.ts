// 006-instance-strategy (rollout step "expand", applied with it, before any v2 starts): each instance reports, when it
// registers, how it dual-writes (v2's DUAL_WRITE_STRATEGY; NULL for v1 and for an instance that registered
// before this migration). The live gate reads it: reads may trust profile_data only while no alive v2 runs
// `sequential-seed`, whose concurrent PUTs leave profile_data holding an older write than the old columns.
// A nullable column, added online like the expand's (instant on MySQL/MariaDB, a bounded metadata-lock wait):
// every instance heartbeats into this table.
import { runOnlineDdl } from './online-ddl.ts';
import { supportColumnTypes } from './support-tables.ts';
import type { Migration } from './types.ts';

export const INSTANCE_STRATEGY_COLUMN = 'dual_write_strategy';

export const instanceStrategy: Migration = {
  name: '006-instance-strategy',
  description: `app_instances.${INSTANCE_STRATEGY_COLUMN}: the dual-write strategy each instance runs (the live gate refuses sequential-seed)`,
  async up({ db, log }) {
    const clause = db.dialect.instantAddColumn ? `, ${db.dialect.instantAddColumn}` : '';
    await runOnlineDdl(db, `ALTER TABLE app_instances ADD COLUMN ${INSTANCE_STRATEGY_COLUMN} ${supportColumnTypes(db.dialect).text(32)} NULL${clause}`, { log });
  },
  async down({ db, log }) {
    await runOnlineDdl(db, `ALTER TABLE app_instances DROP COLUMN ${INSTANCE_STRATEGY_COLUMN}`, { log });
  },
};
