// 001-base: the schema v1 was built for. `users` with the old columns, and the instance registry (so that from
// the very first deploy we know which instances run which version).
// Collation: utf8mb4_bin, so that the database never calls 'Alice' and 'alice' the same value; the code still
// compares bytes itself wherever correctness depends on it (utf8mb4_bin ignores trailing spaces).
import type { Migration } from './types.ts';

export const base: Migration = {
  name: '001-base',
  description: 'users(id, name, email, created_at, updated_at) and the instance registry',
  async up({ db }) {
    if (db.dialect.name === 'sqlite') {
      await db.run(`CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
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
      await db.run(`CREATE TABLE users (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        email VARCHAR(254) NOT NULL,
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
    await db.run('DROP TABLE users');
  },
};
