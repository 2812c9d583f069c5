// Replication, as each server family spells it. MariaDB and MySQL 8.4 both have GTIDs, but they name every
// statement, variable and wait function differently and format a GTID differently: everything that differs
// lives in one module per family (mariadb.ts, mysql.ts) behind this interface, and nothing else in the project
// spells a replication statement.
export interface PrimaryAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface ReplicationDialect {
  name: 'mariadb' | 'mysql';
  /** A well-formed consistency token (a GTID position or set as this family writes it), anchored. */
  tokenPattern: RegExp;
  /** One row, column `position`: every transaction the primary has committed so far. */
  primaryPositionSql: string;
  /** One row, column `position`: every transaction the replica has applied so far. */
  replicaPositionSql: string;
  /** One row, column `result`: waits on the replica for position $1, at most $2 seconds. */
  waitSql: string;
  /** waitSql's $2 for a wait of at most `ms`, in the unit the function takes. */
  waitSeconds(ms: number): number;
  /** Whether waitSql's result means "applied"; throws on a result that says the position is not valid. */
  reached(result: unknown, position: string): boolean;
  /** Makes a fresh server follow the primary by GTID, and starts it. */
  followSql(primary: PrimaryAddress): string[];
  stopSqlThreadSql: string;
  startSqlThreadSql: string;
  /** One row with the replication threads' state (statusOf reads it). */
  statusSql: string;
  statusOf(row: Record<string, unknown> | undefined): { ioRunning: boolean; sqlRunning: boolean; lastError: string };
}

/** A token as it travels in a header: one line, no spaces (MySQL prints long GTID sets over several lines). */
export function normalizeToken(position: unknown): string {
  return String(position ?? '').replace(/\s+/g, '');
}
