// A primary/replica pair with the app's schema, and v1/v2 apps wired to it exactly as run-instance wires them
// (DATABASE_REPLICA_URL set), for the replica tests. The pair is a private MariaDB primary and replica of the
// test's own, or, with REPLICA_PAIR_PRIMARY_URL and REPLICA_PAIR_REPLICA_URL set, a pair someone else runs (the
// template CI's MySQL 8.4 containers: external-pair.ts).
import pino from 'pino';
import { buildV1App } from '../../app-v1/app.ts';
import { buildV2App } from '../../app-v2/app.ts';
import { freshDatabase } from '../../load/run/database.ts';
import { loadConfig } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { startFlags } from '../../shared/flags/index.ts';
import type { Flags } from '../../shared/flags/index.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { privateMariadbUnavailable } from '../../load/infra/private-mariadb.ts';
import { externalPairDatabase, externalPairFromEnv } from './external-pair.ts';
import type { ReplicaControl } from './external-pair.ts';

const externalPair = externalPairFromEnv();

/** Without mariadbd the replica tests are skipped, visibly, unless REQUIRE_MYSQL=1: then they run and fail. */
export const replicaUnavailable = process.env.REQUIRE_MYSQL === '1' || externalPair ? null : privateMariadbUnavailable();
export const title = (what: string) => (replicaUnavailable ? `${what} (SKIPPED: ${replicaUnavailable})` : what);

export interface ReplicaSetup {
  pair: ReplicaControl;
  /** The test's database on the primary (url) and on the replica (replicaUrl). */
  database: { url: string; replicaUrl: string };
  primary: Database;
  replica: Database;
  /** Waits until the replica has applied everything the primary has committed. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

async function replicaDatabase(): Promise<{ pair: ReplicaControl; database: { url: string; replicaUrl: string }; drop(): Promise<void> }> {
  if (externalPair) {
    const external = await externalPairDatabase(externalPair);
    return { pair: external.control, database: external, drop: external.drop };
  }
  const database = await freshDatabase('mysql-replica', '', '');
  return { pair: database.pair!, database: { url: database.url, replicaUrl: database.replicaUrl! }, drop: () => database.drop() };
}

export async function startReplicaSetup(): Promise<ReplicaSetup> {
  const { pair, database, drop } = await replicaDatabase();
  const primary = await connectDatabase(database.url);
  const replica = await connectDatabase(database.replicaUrl);
  await migrateUp(primary);
  const caughtUp = async () => {
    if (!(await pair.waitForGtid(await pair.primaryGtidPos(), 30))) throw new Error('replica did not catch up within 30 s');
  };
  await caughtUp();
  return {
    pair,
    database,
    primary,
    replica,
    caughtUp,
    async stop() {
      await replica.close();
      await primary.close();
      await drop();
    },
  };
}

let counter = 0;

/** The real app of a version with DATABASE_REPLICA_URL set, in process (supertest, or listen on a port). */
export async function replicaApp(version: AppVersion, setup: ReplicaSetup, env: Record<string, string> = {}): Promise<{ app: ReturnType<typeof buildV1App>; flags: Flags }> {
  const config = loadConfig(version, { DATABASE_URL: setup.database.url, DATABASE_REPLICA_URL: setup.database.replicaUrl, FLAG_POLL_MS: '50', ...env });
  const instanceId = `replica-test-${version}-${process.pid}-${++counter}`;
  const logger = pino({ level: 'silent' });
  const flags = await startFlags(setup.primary, { domain: instanceId, pollMs: config.FLAG_POLL_MS, logger });
  const deps = { config, instanceId, db: setup.primary, replica: setup.replica, flags, logger };
  return { app: version === 'v1' ? buildV1App(deps) : buildV2App(deps), flags };
}
