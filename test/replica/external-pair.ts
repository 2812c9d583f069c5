// A primary/replica pair that someone else runs, for the replica tests: the template CI's two MySQL 8.4
// containers (docker/ci/replica-pair.sh starts them and makes the replica follow the primary by GTID). Set
//   REPLICA_PAIR_PRIMARY_URL=mysql://root@127.0.0.1:3307/   REPLICA_PAIR_REPLICA_URL=mysql://root@127.0.0.1:3308/
// (administrator URLs, no database) and test/replica/support.ts uses this pair instead of starting its own
// MariaDB pair. Each setup gets a database of its own, created on the primary (it replicates) and dropped after.
// Lag is injected as with the private pair: the replica's SQL thread is stopped. Works with MariaDB too, which is
// how it is tested here (test/replica/external-pair.full.test.ts, make test-full), in each server's own replication vocabulary.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import type { ReplicaPair } from '../../load/infra/private-mariadb.ts';
import type { ReplicationDialect } from '../../shared/db/replica/dialect.ts';
import { normalizeToken } from '../../shared/db/replica/dialect.ts';
import { mariadbReplication } from '../../shared/db/replica/mariadb.ts';
import { mysqlReplication } from '../../shared/db/replica/mysql.ts';

/** What the replica tests do to a pair: lag it at will, and wait for it to catch up. */
export type ReplicaControl = Pick<ReplicaPair, 'stopReplicaSqlThread' | 'startReplicaSqlThread' | 'waitForGtid' | 'primaryGtidPos'>;

export interface ExternalPairUrls {
  primary: string;
  replica: string;
}

/** The pair named by REPLICA_PAIR_PRIMARY_URL and REPLICA_PAIR_REPLICA_URL, or null when neither is set. */
export function externalPairFromEnv(env: NodeJS.ProcessEnv = process.env): ExternalPairUrls | null {
  const primary = env.REPLICA_PAIR_PRIMARY_URL;
  const replica = env.REPLICA_PAIR_REPLICA_URL;
  if (!primary && !replica) return null;
  if (!primary || !replica) throw new Error('REPLICA_PAIR_PRIMARY_URL and REPLICA_PAIR_REPLICA_URL go together: set both, or neither');
  return { primary, replica };
}

export interface ExternalPairDatabase {
  control: ReplicaControl;
  replication: ReplicationDialect;
  /** The database's URL on the primary and on the replica. */
  url: string;
  replicaUrl: string;
  drop(): Promise<void>;
}

const withDatabase = (serverUrl: string, database: string) => `${serverUrl.replace(/\/?$/, '/')}${database}`;

async function on<T>(url: string, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/** mysql2 placeholders for the dialect's $1, $2. */
const positional = (sql: string) => sql.replace(/\$\d+/g, '?');

/**
 * A fresh database on the pair, once the replica is found replicating (both threads running) and has the
 * database too. Throws, naming what is wrong, when the replica does not replicate.
 */
export async function externalPairDatabase(urls: ExternalPairUrls, { timeoutS = 30 }: { timeoutS?: number } = {}): Promise<ExternalPairDatabase> {
  const version = await on(urls.primary, async (c) => String(((await c.query('SELECT VERSION() AS v'))[0] as { v: string }[])[0]!.v));
  const replication = /mariadb/i.test(version) ? mariadbReplication : mysqlReplication;
  const status = await on(urls.replica, async (c) => replication.statusOf(((await c.query(replication.statusSql))[0] as Record<string, unknown>[])[0]));
  if (!status.ioRunning || !status.sqlRunning) {
    throw new Error(`the replica at REPLICA_PAIR_REPLICA_URL is not replicating (IO ${status.ioRunning ? 'running' : 'stopped'}, SQL ${status.sqlRunning ? 'running' : 'stopped'}) ${status.lastError}: start the pair with docker/ci/replica-pair.sh`);
  }
  const control: ReplicaControl = {
    stopReplicaSqlThread: () => on(urls.replica, async (c) => void (await c.query(replication.stopSqlThreadSql))),
    startReplicaSqlThread: () => on(urls.replica, async (c) => void (await c.query(replication.startSqlThreadSql))),
    primaryGtidPos: () => on(urls.primary, async (c) => normalizeToken(((await c.query(replication.primaryPositionSql))[0] as { position: unknown }[])[0]?.position)),
    waitForGtid: (position, seconds) =>
      on(urls.replica, async (c) => {
        const [rows] = await c.query(positional(replication.waitSql), [position, seconds]);
        return replication.reached((rows as { result: unknown }[])[0]?.result, position);
      }),
  };
  const name = `dwdr_pair_${randomBytes(4).toString('hex')}`;
  await on(urls.primary, (c) => c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`));
  const drop = () => on(urls.primary, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name}`)));
  if (!(await control.waitForGtid(await control.primaryGtidPos(), timeoutS))) {
    await drop();
    throw new Error(`the replica did not apply CREATE DATABASE ${name} within ${timeoutS} s`);
  }
  return { control, replication, url: withDatabase(urls.primary, name), replicaUrl: withDatabase(urls.replica, name), drop };
}
