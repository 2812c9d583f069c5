// MySQL 8.4's replication vocabulary (8.4 removed CHANGE MASTER and START SLAVE). A GTID is source_uuid:N; a
// position is a GTID set ("uuid:1-42,uuid2:1-7"). The replica follows with SOURCE_AUTO_POSITION=1 and
// WAIT_FOR_EXECUTED_GTID_SET(set, timeout) returns 0 once applied, 1 on timeout (an error for a malformed set).
// @@GLOBAL.gtid_executed, read on the primary after a write committed, contains that write.
import type { PrimaryAddress, ReplicationDialect } from './dialect.ts';

const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
// MySQL 8.3+ tags: uuid:tag:1-5.
const UUID_SET = `${UUID}(:[a-z_][a-z0-9_]{0,31})?(:\\d{1,20}(-\\d{1,20})?)+`;

export const mysqlReplication: ReplicationDialect = {
  name: 'mysql',
  tokenPattern: new RegExp(`^${UUID_SET}(,${UUID_SET}){0,31}$`),
  primaryPositionSql: 'SELECT @@GLOBAL.gtid_executed AS position',
  replicaPositionSql: 'SELECT @@GLOBAL.gtid_executed AS position',
  waitSql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET($1, $2) AS result',
  // The function's documented unit is whole seconds (WL#7796), so a wait rounds up to at least 1 s here.
  waitSeconds: (ms) => Math.max(1, Math.ceil(ms / 1000)),
  reached: (result) => Number(result) === 0,
  followSql: ({ host, port, user, password }: PrimaryAddress) => [
    // GET_SOURCE_PUBLIC_KEY=1: caching_sha2_password over a plain connection needs the primary's RSA key.
    `CHANGE REPLICATION SOURCE TO SOURCE_HOST=${sqlString(host)}, SOURCE_PORT=${Number(port)}, SOURCE_USER=${sqlString(user)}, SOURCE_PASSWORD=${sqlString(password)}, SOURCE_CONNECT_RETRY=1, SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1`,
    'START REPLICA',
  ],
  stopSqlThreadSql: 'STOP REPLICA SQL_THREAD',
  startSqlThreadSql: 'START REPLICA SQL_THREAD',
  statusSql: 'SHOW REPLICA STATUS',
  statusOf: (row) => ({
    ioRunning: row?.Replica_IO_Running === 'Yes',
    sqlRunning: row?.Replica_SQL_Running === 'Yes',
    lastError: [row?.Last_IO_Error, row?.Last_SQL_Error].filter(Boolean).join('; '),
  }),
};
