// MariaDB's replication vocabulary. A GTID is domain-server-sequence ("0-1-42"); a position is one GTID per
// replication domain, comma-separated. The replica follows with MASTER_USE_GTID=slave_pos and
// MASTER_GTID_WAIT(pos, timeout) returns 0 once applied, -1 on timeout, NULL for a malformed position.
// @@last_gtid would name one write exactly, but it is per connection and a pooled write does not keep its
// connection: @@gtid_binlog_pos, read after the write committed, contains it (and perhaps a few later writes,
// which the single SQL thread applies in order anyway).
import type { PrimaryAddress, ReplicationDialect } from './dialect.ts';

const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export const mariadbReplication: ReplicationDialect = {
  name: 'mariadb',
  tokenPattern: /^\d{1,10}-\d{1,10}-\d{1,20}(,\d{1,10}-\d{1,10}-\d{1,20}){0,31}$/,
  primaryPositionSql: 'SELECT @@GLOBAL.gtid_binlog_pos AS position',
  replicaPositionSql: 'SELECT @@GLOBAL.gtid_slave_pos AS position',
  waitSql: 'SELECT MASTER_GTID_WAIT($1, $2) AS result',
  // Fractional seconds work (measured here: a 250 ms wait times out after ~250 ms).
  waitSeconds: (ms) => ms / 1000,
  reached(result, position) {
    if (result === null || result === undefined) throw new Error(`MASTER_GTID_WAIT('${position}') returned NULL: not a GTID position`);
    return Number(result) === 0;
  },
  followSql: ({ host, port, user, password }: PrimaryAddress) => [
    // MASTER_CONNECT_RETRY=1: after a primary restart the replica reconnects within a second, not 60.
    `CHANGE MASTER TO MASTER_HOST=${sqlString(host)}, MASTER_PORT=${Number(port)}, MASTER_USER=${sqlString(user)}, MASTER_PASSWORD=${sqlString(password)}, MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos`,
    'START SLAVE',
  ],
  stopSqlThreadSql: 'STOP SLAVE SQL_THREAD',
  startSqlThreadSql: 'START SLAVE SQL_THREAD',
  statusSql: 'SHOW SLAVE STATUS',
  statusOf: (row) => ({
    ioRunning: row?.Slave_IO_Running === 'Yes',
    sqlRunning: row?.Slave_SQL_Running === 'Yes',
    lastError: [row?.Last_IO_Error, row?.Last_SQL_Error].filter(Boolean).join('; '),
  }),
};
