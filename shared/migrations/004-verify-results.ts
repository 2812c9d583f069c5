// 004-verify-results (rollout step "verify"): every `npm run verify` records what it found. The rollout's
// gates read this history: reads may trust profile_data (stage live) only after a clean dual-mode verify that
// started after the last v1 instance was gone, and contract requires one on record. A verify that did not
// finish (killed, failed) keeps finished_at NULL and never counts.
import { supportColumnTypes } from './support-tables.ts';
import type { Migration } from './types.ts';

export const verifyResults: Migration = {
  name: '004-verify-results',
  description: 'verify_runs: every verify result (time, write mode, drift counts, sample)',
  async up({ db }) {
    const t = supportColumnTypes(db.dialect);
    await db.run(`CREATE TABLE verify_runs (
      id ${t.id},
      mode ${t.text(16)} NOT NULL,
      started_at ${t.timestamp} NOT NULL,
      finished_at ${t.timestamp} NULL,
      range_start ${t.bigint} NULL,
      range_end ${t.bigint} NULL,
      rows_checked ${t.bigint} NOT NULL,
      missing ${t.bigint} NOT NULL,
      invalid ${t.bigint} NOT NULL,
      different ${t.bigint} NOT NULL,
      drift ${t.bigint} NOT NULL,
      sample ${t.longText} NULL,
      owner ${t.text(200)} NOT NULL)${t.tableOptions}`);
  },
  async down({ db }) {
    await db.run('DROP TABLE verify_runs');
  },
};
