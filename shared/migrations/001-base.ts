// 001-base: the schema v1 was built for. The mapping's table with its key and old columns (`users(id, name,
// email)` by default), and the instance registry (so that from the very first deploy we know which instances run
// which version). A team adapting the template has its table already; the demo and the tests build it from the
// mapping here. For the default mapping the statements are byte for byte the ones this file always ran
// (test/template/frozen-schema.test.ts).
import { mapping } from '../schema-mapping.ts';
// Collation: utf8mb4_bin, so that the database never calls 'Alice' and 'alice' the same value; the code still
// compares bytes itself wherever correctness depends on it (utf8mb4_bin ignores trailing spaces).
import type { Migration } from './types.ts';
import type { KeyType } from '../mapping-contract.ts';

/**
 * The key column per key type. uuid: the app assigns it (a random v4 in lower case), stored as 36 ASCII bytes and
 * ordered by bytes, which is how backfill and verify walk it. Random keys insert all over the index (page
 * splits, a bigger working set than AUTO_INCREMENT's tail): the price of keys made without the database.
 */
const KEY_DEFINITION: Record<KeyType, { sqlite: string; mysql: string }> = {
  integer: { sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT', mysql: 'BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY' },
  uuid: { sqlite: 'TEXT NOT NULL PRIMARY KEY', mysql: 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY' },
};

export const base: Migration = {
  name: '001-base',
  description: `${mapping.table}(${[mapping.keyColumn, ...mapping.oldColumnNames].join(', ')}, created_at, updated_at) and the instance registry`,
  async up({ db }) {
    if (db.dialect.name === 'sqlite') {
      await db.run(`CREATE TABLE ${mapping.table} (
        ${mapping.keyColumn} ${KEY_DEFINITION[mapping.keyType].sqlite},
${oldColumnLines('sqlite')}
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`);
      await db.run(`CREATE TABLE app_instances (
        row_id INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        app_version TEXT NOT NULL,
        address TEXT NOT NULL,
        pid INTEGER NOT NULL,
        heartbeat_ms INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        stopped_at TEXT NULL,
        flag_set_version INTEGER NULL)`);
    } else {
      await db.run(`CREATE TABLE ${mapping.table} (
        ${mapping.keyColumn} ${KEY_DEFINITION[mapping.keyType].mysql},
${oldColumnLines('mysql')}
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
      await db.run(`CREATE TABLE app_instances (
        row_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        instance_id VARCHAR(100) NOT NULL,
        app_version VARCHAR(16) NOT NULL,
        address VARCHAR(200) NOT NULL,
        pid INT NOT NULL,
        heartbeat_ms INT NOT NULL,
        started_at DATETIME(3) NOT NULL,
        last_seen DATETIME(3) NOT NULL,
        stopped_at DATETIME(3) NULL,
        flag_set_version BIGINT NULL,
        KEY app_instances_last_seen (last_seen)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    }
  },
  async down({ db }) {
    await db.run('DROP TABLE app_instances');
    await db.run(`DROP TABLE ${mapping.table}`);
  },
};

/** One line per old column, indented as the statement around it. */
function oldColumnLines(dialect: 'sqlite' | 'mysql'): string {
  return mapping.oldColumns.map((column) => `        ${column.name} ${dialect === 'sqlite' ? column.sqliteType : column.mysqlType} NOT NULL,`).join('\n');
}
