// 002-expand (checklist: "Confirm that the schema expansion is deployed and verified"): adds the nullable
// `profile_data` column and the feature-flag tables, and nothing else. v1 keeps working: it never names the
// new column. The ADD COLUMN is instant and online on MySQL/MariaDB (metadata only, no table copy) and a plain
// ADD COLUMN on SQLite; both run through runOnlineDdl (short lock wait, retries).
import { mapping } from '../schema-mapping.ts';
import { runOnlineDdl } from './online-ddl.ts';
import type { Migration } from './types.ts';

export const expand: Migration = {
  name: '002-expand',
  description: `adds nullable ${mapping.table}.${mapping.newColumn} (instant, online) and the flag tables`,
  async up({ db, log }) {
    const { dialect } = db;
    const clause = dialect.instantAddColumn ? `, ${dialect.instantAddColumn}` : '';
    const addColumn = `ALTER TABLE ${mapping.table} ADD COLUMN ${mapping.newColumn} ${dialect.jsonType} NULL${clause}`;
    log(`  ${addColumn}`);
    await runOnlineDdl(db, addColumn, { log });
    const text = dialect.name === 'sqlite' ? 'TEXT' : 'VARCHAR(64)';
    const suffix = dialect.name === 'sqlite' ? '' : ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
    const timestamp = dialect.name === 'sqlite' ? 'TEXT' : 'DATETIME(3)';
    // One row per flag; the single flag_set row carries the version every change bumps, so an instance can
    // report which set of values it has loaded and a rollout can wait until all have the latest.
    await db.run(`CREATE TABLE flags (
      name ${text} NOT NULL PRIMARY KEY,
      value ${dialect.name === 'sqlite' ? 'TEXT' : 'VARCHAR(1000)'} NOT NULL,
      version BIGINT NOT NULL,
      updated_at ${timestamp} NOT NULL,
      updated_by ${dialect.name === 'sqlite' ? 'TEXT' : 'VARCHAR(200)'} NOT NULL)${suffix}`);
    await db.run(`CREATE TABLE flag_set (
      id INTEGER NOT NULL PRIMARY KEY,
      version BIGINT NOT NULL,
      updated_at ${timestamp} NOT NULL)${suffix}`);
    await db.run(`INSERT INTO flag_set (id, version, updated_at) VALUES (1, 0, ${dialect.now})`);
  },
  async down({ db, log }) {
    await db.run('DROP TABLE flag_set');
    await db.run('DROP TABLE flags');
    const dropColumn = `ALTER TABLE ${mapping.table} DROP COLUMN ${mapping.newColumn}`;
    log(`  ${dropColumn}`);
    await runOnlineDdl(db, dropColumn, { log });
  },
};
