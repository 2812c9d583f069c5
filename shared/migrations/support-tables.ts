// Column types for the rollout's own bookkeeping tables (backfill checkpoints, verify results, rollout log),
// per dialect, so each of those migrations states only its columns. Timestamps come from the database clock,
// like the registry's, so "did this verify start after the last v1 stopped?" compares one clock with itself.
import type { Dialect } from '../db/dialect.ts';

export function supportColumnTypes(dialect: Dialect) {
  const sqlite = dialect.name === 'sqlite';
  return {
    id: sqlite ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY',
    bigint: 'BIGINT',
    text: (length: number) => (sqlite ? 'TEXT' : `VARCHAR(${length})`),
    longText: 'TEXT',
    timestamp: sqlite ? 'TEXT' : 'DATETIME(3)',
    tableOptions: sqlite ? '' : ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  };
}
