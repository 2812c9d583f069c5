// Starting and stopping one instance, the same for both versions: validated config, database, flags,
// listen, register in the instance registry, heartbeat; on SIGTERM drain, mark stopped, close, exit 0.
// A version supplies only how it builds its user service.
import type { Application } from 'express';
import type { Logger } from 'pino';
import { ConfigError, instanceIdFor, loadConfig } from '../config.ts';
import type { AppVersion, Config } from '../config.ts';
import { connectDatabase } from '../db/connection.ts';
import type { Database } from '../db/connection.ts';
import { startFlags } from '../flags/index.ts';
import type { Flags } from '../flags/index.ts';
import { createLogger } from '../logger.ts';
import { instanceRegistry, startHeartbeat } from '../registry/instances.ts';
import { listen } from './lifecycle.ts';

export interface InstanceDeps {
  config: Config;
  instanceId: string;
  db: Database;
  /** DATABASE_REPLICA_URL's connection, when set. */
  replica?: Database;
  flags: Flags;
  logger: Logger;
}

export interface VersionHooks {
  /** Refuse to start (one line, exit 1) when the schema cannot serve this version. */
  checkSchema?(db: Database): Promise<string | null>;
  buildApp(deps: InstanceDeps): Application;
}

export async function runInstance(appVersion: AppVersion, hooks: VersionHooks): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(appVersion);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${err.message}`);
    throw err;
  }
  let db: Database;
  try {
    db = await connectDatabase(config.DATABASE_URL, { poolMax: config.DB_POOL_MAX });
  } catch (err) {
    return fail(`cannot connect to the database (DATABASE_URL): ${(err as Error).message}`);
  }
  let replica: Database | undefined;
  try {
    if (config.DATABASE_REPLICA_URL) replica = await connectDatabase(config.DATABASE_REPLICA_URL, { poolMax: config.DB_POOL_MAX });
  } catch (err) {
    return fail(`cannot connect to the replica (DATABASE_REPLICA_URL): ${(err as Error).message}`);
  }
  const refusal = await hooks.checkSchema?.(db);
  if (refusal) fail(refusal);

  // Listen first (with PORT=0 the port names the instance), build the app once the flags are loaded. A request
  // that arrives in between (a health poll, a balancer probing the slot) waits for the app instead of failing.
  let app: Application | undefined;
  let appReady!: () => void;
  const ready = new Promise<void>((resolve) => (appReady = resolve));
  const running = await listen((req, res) => (app ? app(req, res) : void ready.then(() => app!(req, res))), { port: config.PORT, host: config.HOST });
  const instanceId = instanceIdFor(config, running.port);
  const logger = createLogger({ level: config.LOG_LEVEL, instanceId, appVersion });
  const flags = await startFlags(db, { domain: instanceId, pollMs: config.FLAG_POLL_MS, logger });
  app = hooks.buildApp({ config, instanceId, db, replica, flags, logger });
  appReady();

  const registry = instanceRegistry(db);
  const address = `${config.HOST}:${running.port}`;
  const rowId = await registry.register({ instanceId, appVersion, address, pid: process.pid, heartbeatMs: config.HEARTBEAT_MS }, flags.loaded().version);
  const heartbeat = startHeartbeat(registry, rowId, {
    intervalMs: config.HEARTBEAT_MS,
    flagSetVersion: () => flags.loaded().version,
    onError: (err) => logger.warn({ err }, 'heartbeat failed'),
  });
  console.log(`${appVersion} instance ${instanceId} listening on http://${address} (${db.dialect.serverVersion}, pid ${process.pid})`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${appVersion} instance ${instanceId}: ${signal}, draining`);
    const { forced } = await running.drain();
    await heartbeat.stop();
    await registry.markStopped(rowId).catch((err: unknown) => logger.warn({ err }, 'could not mark the instance stopped'));
    await flags.close();
    await replica?.close();
    await db.close();
    console.log(`${appVersion} instance ${instanceId}: stopped${forced ? ' (drain deadline reached, connections forced closed)' : ''}`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function fail(line: string): never {
  console.error(line);
  process.exit(1);
}
