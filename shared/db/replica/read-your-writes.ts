// Read-your-writes across versions and instances with a replica: the consistency token.
//
// Every write answers with X-Consistency-Token: the primary's GTID position read after the write committed,
// so it contains the write. The client sends the last token it received with its next request (any version,
// any instance: the token is the state, no instance keeps any). A read that carries a token is served by
// the replica once the replica has applied that position (MASTER_GTID_WAIT / WAIT_FOR_EXECUTED_GTID_SET, at
// most REPLICA_WAIT_MS), else by the primary; a read served by the primary answers with a fresh token, so
// that a later replica read of the same client cannot go back in time (monotonic reads). A read without a
// token has nothing of its own to see: the replica serves it at once.
// After a wait times out the replica is assumed behind: for REPLICA_SKIP_MS every token read goes straight to
// the primary instead of waiting again (a stalled replica costs each read one wait at most, not one each).
// The guarantee is per client (a session): read-your-writes and monotonic reads. It is not real-time order
// across clients: a client without another's token can read the replica's older value (docs/read-replicas.md).
import type { Database, Executor } from '../connection.ts';
import { normalizeToken } from './dialect.ts';
import type { ReplicationDialect } from './dialect.ts';
import { mariadbReplication } from './mariadb.ts';
import { mysqlReplication } from './mysql.ts';

export const DEFAULT_REPLICA_WAIT_MS = 250;
const REPLICA_SKIP_MS = 1000;

export type ReadServer = 'replica' | 'primary';

export interface ReadRoute {
  reads: Executor;
  from: ReadServer;
  /** The token to answer with (primary reads), or null: the client keeps the one it sent. */
  tokenAfterRead(): Promise<string | null>;
}

export interface ReplicaReads {
  replication: ReplicationDialect;
  /** Rejects a malformed token (a 400 is the caller's job); undefined for a request without one. */
  isToken(token: string): boolean;
  /** After a write on the primary: a token that contains it. */
  tokenAfterWrite(): Promise<string>;
  /** Where a read carrying this token (or none) goes. */
  route(token: string | undefined): Promise<ReadRoute>;
}

export function replicationDialectOf(db: Database): ReplicationDialect {
  if (db.dialect.name === 'mariadb') return mariadbReplication;
  if (db.dialect.name === 'mysql') return mysqlReplication;
  throw new Error(`replication needs MySQL or MariaDB, not ${db.dialect.name}`);
}

export async function position(executor: Executor, sql: string): Promise<string> {
  const [row] = await executor.select<{ position: unknown }>(sql);
  return normalizeToken(row?.position);
}

/** Waits on the replica until it has applied `token`, at most timeoutMs; true once applied. */
export async function waitForPosition(replica: Executor, replication: ReplicationDialect, token: string, timeoutMs: number): Promise<boolean> {
  const [row] = await replica.select<{ result: unknown }>(replication.waitSql, [token, replication.waitSeconds(timeoutMs)]);
  return replication.reached(row?.result, token);
}

/** The default strategy: wait for the token on the replica, else read the primary. */
export function readYourWrites({ primary, replica, waitMs = DEFAULT_REPLICA_WAIT_MS }: { primary: Database; replica: Database; waitMs?: number }): ReplicaReads {
  const replication = replicationDialectOf(primary);
  let skipReplicaUntil = 0;
  const fromPrimary: ReadRoute = { reads: primary, from: 'primary', tokenAfterRead: () => position(primary, replication.primaryPositionSql) };
  const fromReplica: ReadRoute = { reads: replica, from: 'replica', tokenAfterRead: async () => null };
  return {
    replication,
    isToken: (token) => replication.tokenPattern.test(token),
    tokenAfterWrite: () => position(primary, replication.primaryPositionSql),
    async route(token) {
      if (!token) return fromReplica;
      if (performance.now() < skipReplicaUntil) return fromPrimary;
      if (await waitForPosition(replica, replication, token, waitMs)) return fromReplica;
      skipReplicaUntil = performance.now() + REPLICA_SKIP_MS;
      return fromPrimary;
    },
  };
}
