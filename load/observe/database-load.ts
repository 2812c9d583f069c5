// Database load beside the app metrics (the common recipe: "monitor your database metrics"), sampled by the demo once a
// second: MySQL/MariaDB's Threads_running (statements executing now), InnoDB row lock waits (the counter and
// the waits in progress: dual-write and the backfill both take row locks), and, when a replica connection is
// given, its lag as the replica reports it (Seconds_Behind_Master/Source; NULL while its SQL thread is stopped).
// SQLite has no server to ask: every figure is null there.
import type { Database } from '../../shared/db/connection.ts';

export interface DatabaseLoad {
  threadsRunning: number | null;
  /** Innodb_row_lock_waits: a counter since server start (the sampler turns it into waits per second). */
  rowLockWaits: number | null;
  rowLockCurrentWaits: number | null;
  /** null without a replica, or while the replica is not replicating (see replicaState). */
  replicaLagSeconds: number | null;
  /**
   * MariaDB: transactions the replica has not applied yet (the primary's @@gtid_binlog_pos against the replica's
   * @@gtid_slave_pos, per replication domain). Unlike the lag in seconds it still counts while the SQL thread is
   * stopped, which is how the demo injects lag.
   */
  replicaBehindTransactions: number | null;
  /** 'replicating', 'sql thread stopped', 'io thread stopped', 'not a replica', or null without a replica. */
  replicaState: string | null;
}

const STATUS_VARIABLES = ['Threads_running', 'Innodb_row_lock_waits', 'Innodb_row_lock_current_waits'];

/** Every figure unknown: SQLite, or a probe that failed. */
export const NO_DATABASE_LOAD: Readonly<DatabaseLoad> = { threadsRunning: null, rowLockWaits: null, rowLockCurrentWaits: null, replicaLagSeconds: null, replicaBehindTransactions: null, replicaState: null };

export function databaseLoadProbe(db: Database, replica: Database | null = null): () => Promise<DatabaseLoad> {
  if (db.dialect.name === 'sqlite') {
    return async () => ({ ...NO_DATABASE_LOAD });
  }
  // SHOW REPLICA STATUS is MySQL 8.0.22+ and MariaDB 10.5.1+; older servers only know SHOW SLAVE STATUS.
  let replicaStatement = 'SHOW REPLICA STATUS';
  return async () => {
    const rows = await db.select<{ Variable_name: string; Value: string }>(
      `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_VARIABLES.map((v) => `'${v}'`).join(', ')})`,
    );
    const status = new Map(rows.map((r) => [r.Variable_name, Number(r.Value)]));
    const load: DatabaseLoad = {
      threadsRunning: status.get('Threads_running') ?? null,
      rowLockWaits: status.get('Innodb_row_lock_waits') ?? null,
      rowLockCurrentWaits: status.get('Innodb_row_lock_current_waits') ?? null,
      replicaLagSeconds: null,
      replicaBehindTransactions: null,
      replicaState: null,
    };
    if (!replica) return load;
    let replicaRows: Record<string, unknown>[];
    try {
      replicaRows = await replica.select<Record<string, unknown>>(replicaStatement);
    } catch (err) {
      if (replicaStatement === 'SHOW SLAVE STATUS') throw err;
      replicaStatement = 'SHOW SLAVE STATUS';
      replicaRows = await replica.select<Record<string, unknown>>(replicaStatement);
    }
    const row = replicaRows[0];
    if (!row) return { ...load, replicaState: 'not a replica' };
    const lag = row.Seconds_Behind_Source ?? row.Seconds_Behind_Master;
    const running = (name: string) => String(row[`Replica_${name}_Running`] ?? row[`Slave_${name}_Running`] ?? '') === 'Yes';
    return {
      ...load,
      replicaBehindTransactions: db.dialect.name === 'mariadb' ? await transactionsBehind(db, replica) : null,
      replicaLagSeconds: lag === null || lag === undefined ? null : Number(lag),
      replicaState: !running('SQL') ? 'sql thread stopped' : !running('IO') ? 'io thread stopped' : 'replicating',
    };
  };
}

/** MariaDB GTIDs are domain-server-sequence; a position lists the last one per domain. */
function sequencesByDomain(position: string): Map<string, number> {
  const byDomain = new Map<string, number>();
  for (const gtid of position.split(',').map((g) => g.trim()).filter(Boolean)) {
    const [domain, , sequence] = gtid.split('-');
    if (domain !== undefined && sequence !== undefined) byDomain.set(domain, Math.max(byDomain.get(domain) ?? 0, Number(sequence)));
  }
  return byDomain;
}

async function transactionsBehind(primary: Database, replica: Database): Promise<number> {
  const [[written], [applied]] = await Promise.all([
    primary.select<{ pos: string | null }>('SELECT @@gtid_binlog_pos AS pos'),
    replica.select<{ pos: string | null }>('SELECT @@gtid_slave_pos AS pos'),
  ]);
  const done = sequencesByDomain(applied?.pos ?? '');
  let behind = 0;
  for (const [domain, sequence] of sequencesByDomain(written?.pos ?? '')) behind += Math.max(0, sequence - (done.get(domain) ?? 0));
  return behind;
}
