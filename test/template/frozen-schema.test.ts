// Migrations are frozen history: 001-base builds its table from the mapping (so adapting the template is one
// place), but for the default mapping (users) the schema it produces must stay byte for byte what it always was.
// The expected texts below are the ones 001-base produced before it read the mapping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapping } from '../../shared/schema-mapping.ts';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const SQLITE_USERS = `CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`;

const MARIADB_USERS = `CREATE TABLE \`users\` (
  \`id\` bigint(20) NOT NULL AUTO_INCREMENT,
  \`name\` varchar(100) NOT NULL,
  \`email\` varchar(254) NOT NULL,
  \`created_at\` datetime(3) NOT NULL,
  \`updated_at\` datetime(3) NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

const targets = await databaseTargets();

describe.each(targets)('001-base with the default mapping on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create({ migrateTo: '001-base' });
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip !== null)('When 001-base has run, then the table is byte for byte the one it always created', async () => {
    expect(mapping.id).toBe('users');
    if (database.db.dialect.name === 'sqlite') {
      const [row] = await database.db.select<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'");
      expect(row?.sql).toBe(SQLITE_USERS);
    } else {
      const [row] = await database.db.select<Record<string, string>>('SHOW CREATE TABLE users');
      expect(row?.['Create Table']).toBe(MARIADB_USERS);
    }
  });
});
