// 005-rollout-log (every rollout step): each `npm run rollout -- advance|rollback` records what it did, what
// refused it, or whom it was still waiting for. Besides the audit trail, the gates read one fact from it: when
// the last new-only period ended (reads may go back to verifying against the old columns only after a clean
// dual-mode verify that started later, i.e. after the reverse backfill).
import { supportColumnTypes } from './support-tables.ts';
import type { Migration } from './types.ts';

export const rolloutLog: Migration = {
  name: '005-rollout-log',
  description: 'rollout_events: every stage transition, refusal and timeout',
  async up({ db }) {
    const t = supportColumnTypes(db.dialect);
    await db.run(`CREATE TABLE rollout_events (
      id ${t.id},
      at ${t.timestamp} NOT NULL,
      action ${t.text(16)} NOT NULL,
      from_stage ${t.text(32)} NOT NULL,
      to_stage ${t.text(32)} NULL,
      changes ${t.text(1000)} NULL,
      flag_set_version ${t.bigint} NULL,
      outcome ${t.text(16)} NOT NULL,
      detail ${t.longText} NULL,
      actor ${t.text(200)} NOT NULL)${t.tableOptions}`);
  },
  async down({ db }) {
    await db.run('DROP TABLE rollout_events');
  },
};
