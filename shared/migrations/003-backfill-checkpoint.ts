// 003-backfill-checkpoint (rollout step "backfill"): where `npm run backfill` keeps its checkpoint. One row per
// run: the key range fixed when the run started (rows written later are v2's, dual-written, or v1's, caught
// by verify: the run always terminates), and next_id, every key below which is done. Each batch moves next_id
// in its own transaction, so a run killed with -9 resumes exactly where its last committed batch ended.
import { supportColumnTypes } from './support-tables.ts';
import type { Migration } from './types.ts';

export const backfillCheckpoint: Migration = {
  name: '003-backfill-checkpoint',
  description: 'backfill_runs: the backfill checkpoint (key range, next key, counts, heartbeat)',
  async up({ db }) {
    const t = supportColumnTypes(db.dialect);
    await db.run(`CREATE TABLE backfill_runs (
      id ${t.id},
      direction ${t.text(16)} NOT NULL,
      status ${t.text(16)} NOT NULL,
      range_start ${t.bigint} NOT NULL,
      range_end ${t.bigint} NOT NULL,
      next_id ${t.bigint} NOT NULL,
      rows_changed ${t.bigint} NOT NULL,
      batches ${t.bigint} NOT NULL,
      retries ${t.bigint} NOT NULL,
      owner ${t.text(200)} NOT NULL,
      started_at ${t.timestamp} NOT NULL,
      updated_at ${t.timestamp} NOT NULL,
      finished_at ${t.timestamp} NULL)${t.tableOptions}`);
  },
  async down({ db }) {
    await db.run('DROP TABLE backfill_runs');
  },
};
