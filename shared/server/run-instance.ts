// Starting and stopping one instance, the same for both versions: validated config, database, the stage guard,
// flags, register in the instance registry, heartbeat, serve; on SIGTERM drain, mark stopped, close, exit 0.
// A version supplies only how it builds its user service (and its schema check).
//
// The fences (docs/fences.md) live here:
// - Stage guard: a version refuses a stage outside its range (shared/rollout/stage-guard.ts): at start with one
//   line and exit 3, before it registers; while running, on the flag change that leaves the range, it stops
//   taking public requests at once, de-registers, drains and exits 3 with the same line.
// - Ready means registered: the public port accepts connections only once the instance has registered and
//   loaded its flags, and only while its lease is held; /livez and /healthz stay on the ops port (ops.ts).
// - Leases, not hopes: heartbeats and flag polls run on their own connection (never behind the request pool),
//   with a timeout, and every public request checks the lease first (lease.ts), and every statement it sends
//   again (fenced-database.ts); a statement that finds the primary unreachable gives the lease up at once.
import type { Application } from 'express';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ConfigError, instanceIdFor, loadConfig } from '../config.ts';
import type { AppVersion, Config } from '../config.ts';
import { connectDatabase } from '../db/connection.ts';
import type { Database } from '../db/connection.ts';
import { startFlags } from '../flags/index.ts';
import type { Flags } from '../flags/index.ts';
import type { LoadedFlags } from '../flags/provider.ts';
import { createLogger } from '../logger.ts';
import { ALIVE_HEARTBEATS, instanceRegistry, startHeartbeat } from '../registry/instances.ts';
import { STAGE_GUARD_EXIT_CODE, stageGuardRefusal } from '../rollout/stage-guard.ts';
import { deriveStage, flagStage } from '../rollout/stages.ts';
import { CONTRACT_MIGRATION, readRolloutState } from '../rollout/state.ts';
import { expressRequestClasses } from './express-requests.ts';
import { fencedDatabase } from './fenced-database.ts';
import { Lease } from './lease.ts';
import { listen } from './lifecycle.ts';
import { opsHandler } from './ops.ts';
import type { Readiness } from './ops.ts';

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

/** Connections of the control path: a heartbeat and a flag poll may overlap, nothing else uses them. */
const CONTROL_POOL_MAX = 2;

export async function runInstance(appVersion: AppVersion, hooks: VersionHooks): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(appVersion);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${err.message}`);
    throw err;
  }
  let app: Application | undefined;
  let leaving: 'signal' | 'stage-guard' | null = null;
  let guardLine = '';
  const lease = new Lease(ALIVE_HEARTBEATS * config.HEARTBEAT_MS, (held) => {
    if (leaving) return;
    if (!held) {
      running.shed();
      logger.warn({ leaseMs: lease.windowMs }, 'lease lost: public port and keep-alive connections closed until a heartbeat renews it');
    } else {
      reopen();
    }
  });
  const readiness = (): Readiness => (leaving ? 'stopping' : !app || !lease.everHeld ? 'starting' : !lease.isHeld() ? 'lease-lost' : running.listening ? 'ready' : 'starting');
  const reopen = () => void running.resume().catch((err: unknown) => logger.error({ err }, 'could not listen on the public port again; retrying at the next heartbeat'));
  // The lease is checked before anything else on every public request: a request that waited on an open
  // keep-alive connection (or in the listen backlog) while the process was frozen is refused here, before it
  // reaches the database.
  const publicHandler: http.RequestListener = (req, res) => {
    if (leaving === 'stage-guard') return refuse(req, res, 'not_serving', guardLine);
    if (!app || !lease.isHeld()) return refuse(req, res, 'lease_lost', 'this instance has not renewed its registry lease: try another instance');
    app(req, res);
  };
  // Bound now (with PORT=0 the port names the instance), accepting only once registered (lease held). Its
  // requests are born with the app's prototypes once there is an app (express-requests.ts: memory).
  const requestClasses = expressRequestClasses();
  const running = await listen(publicHandler, { port: config.PORT, host: config.HOST, paused: true, serverOptions: requestClasses.serverOptions });
  const instanceId = instanceIdFor(config, running.port);
  const logger = createLogger({ level: config.LOG_LEVEL, instanceId, appVersion });
  // Open from the start, before the database is reached: /livez must answer whatever the database does.
  const ops = await listen(opsHandler({ appVersion, instanceId, readiness, app: () => app }), { port: config.OPS_PORT, host: config.HOST });

  let db: Database;
  let control: Database;
  try {
    // direct: on MySQL the instance's pools speak to mysql2 without Sequelize, which it then never loads (memory).
    db = await connectDatabase(config.DATABASE_URL, { poolMax: config.DB_POOL_MAX, direct: true });
    control = await connectDatabase(config.DATABASE_URL, { poolMax: CONTROL_POOL_MAX, direct: true });
  } catch (err) {
    return fail(`cannot connect to the database (DATABASE_URL): ${(err as Error).message}`);
  }
  let replica: Database | undefined;
  try {
    if (config.DATABASE_REPLICA_URL) replica = await connectDatabase(config.DATABASE_REPLICA_URL, { poolMax: config.DB_POOL_MAX, direct: true });
  } catch (err) {
    return fail(`cannot connect to the replica (DATABASE_REPLICA_URL): ${(err as Error).message}`);
  }
  const refusal = await hooks.checkSchema?.(db);
  if (refusal) fail(refusal);
  // The exact stage, from every fact, as `rollout status` derives it. While running, the flags alone can move
  // the stage out of a version's range (contract runs only in new-only, which already fenced v1).
  const startState = await readRolloutState(control);
  const contracted = startState.migrations.includes(CONTRACT_MIGRATION);
  // The sync mode is read once, at start: it is recorded in the expand phase, and an instance that started before
  // (as app) judges by app's ranges, the narrower ones.
  const syncMode = startState.sync?.mode;
  const startRefusal = stageGuardRefusal(appVersion, deriveStage(startState), syncMode);
  if (startRefusal) fail(startRefusal, STAGE_GUARD_EXIT_CODE);
  // Announced once the start-up checks passed, so that a refusal stays one line.
  console.log(`${appVersion} instance ${instanceId}: ops port http://${config.HOST}:${ops.port} (/livez, /healthz, /metrics); public port ${running.port} opens once registered`);

  const flags = await startFlags(control, { domain: instanceId, pollMs: config.FLAG_POLL_MS, logger });
  // A request's statement that finds the primary unreachable: ask the control path at once; if it cannot reach
  // the database either, give the lease up now (the public port closes) instead of at the end of the window.
  let probing = false;
  const probeDatabase = () => {
    if (probing || leaving || !lease.isHeld()) return;
    probing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${config.HEARTBEAT_MS} ms`)), config.HEARTBEAT_MS)));
    Promise.race([control.select('SELECT 1 AS ok'), timeout])
      .then(
        () => {},
        (err: unknown) => {
          if (leaving) return;
          logger.warn({ err }, 'database unreachable: lease given up until a heartbeat gets through');
          lease.lapse();
        },
      )
      .finally(() => {
        clearTimeout(timer);
        probing = false;
      });
  };
  const leaseHeld = () => lease.isHeld();
  app = hooks.buildApp({
    config,
    instanceId,
    db: fencedDatabase(db, { leaseHeld, onUnreachable: probeDatabase }),
    replica: replica && fencedDatabase(replica, { leaseHeld }),
    flags,
    logger,
  });
  requestClasses.adopt(app);
  const registry = instanceRegistry(control);
  const address = `${config.HOST}:${running.port}`;
  let rowId: number | undefined;
  let heartbeat: { stop(): Promise<void> } | undefined;

  const deregister = async () => {
    await heartbeat?.stop();
    if (rowId !== undefined) await registry.markStopped(rowId).catch((err: unknown) => logger.warn({ err }, 'could not mark the instance stopped'));
  };
  const closeConnections = async () => {
    await flags.close();
    await replica?.close();
    await db.close();
    await control.close();
  };
  const leaveStage = async (line: string) => {
    if (leaving) return;
    leaving = 'stage-guard';
    guardLine = line;
    lease.revoke();
    running.shed();
    await deregister();
    await running.drain();
    await closeConnections();
    fail(line, STAGE_GUARD_EXIT_CODE);
  };
  const judge = (loaded: LoadedFlags) => {
    const stage = flagStage(loaded.values, { contracted });
    const line = stage && stageGuardRefusal(appVersion, stage, syncMode);
    if (line) void leaveStage(line);
    return line;
  };
  flags.onLoad(judge);
  // The flags may have moved between the start-up check and now.
  const loadedRefusal = judge(flags.loaded());
  if (loadedRefusal) return;

  const sentAt = performance.now();
  rowId = await registry.register({ instanceId, appVersion, address, pid: process.pid, heartbeatMs: config.HEARTBEAT_MS, dualWriteStrategy: appVersion === 'v2' ? config.DUAL_WRITE_STRATEGY : null }, flags.loaded().version);
  heartbeat = startHeartbeat(registry, rowId, {
    intervalMs: config.HEARTBEAT_MS,
    // A heartbeat that comes back within the window still renews (from the moment it was sent).
    timeoutMs: lease.windowMs,
    maxInFlight: ALIVE_HEARTBEATS,
    flagSetVersion: () => flags.loaded().version,
    // A process resumed after SIGSTOP judges the current flags (stage guard) before its lease counts again.
    beforeRenew: () => flags.refresh(),
    onRenewed: (heartbeatSentAt) => {
      lease.renew(heartbeatSentAt);
      if (!leaving && lease.isHeld() && !running.listening) reopen();
    },
    onError: (err) => logger.warn({ err }, 'heartbeat failed'),
  });
  lease.renew(sentAt);
  try {
    await running.resume();
  } catch (err) {
    await deregister();
    return fail(`cannot listen on ${address} (PORT): ${(err as Error).message}`);
  }
  console.log(`${appVersion} instance ${instanceId} listening on http://${address} (${db.dialect.serverVersion}, pid ${process.pid})`);

  const shutdown = async (signal: string) => {
    if (leaving) return;
    leaving = 'signal';
    console.log(`${appVersion} instance ${instanceId}: ${signal}, draining`);
    const { forced } = await running.drain();
    await deregister();
    await closeConnections();
    console.log(`${appVersion} instance ${instanceId}: stopped${forced ? ' (drain deadline reached, connections forced closed)' : ''}`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** What nginx never re-sends to the next upstream once it sent it (proxy_next_upstream without non_idempotent). */
const NOT_RESENT = new Set(['POST', 'PATCH', 'LOCK']);

/**
 * A request this instance must not serve. Closed unanswered when the balancer re-sends it to the next slot on an
 * error (GET, PUT, ...): a 503 would reach the client, since the balancer does not retry a 503. A POST it would
 * not re-send either way gets 503 in the shared error shape: the client learns that nothing was written, where a
 * closed connection would leave the outcome unknown (502). Either way the connection closes.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, code: string, message: string): void {
  if (!NOT_RESENT.has(req.method ?? '')) {
    req.socket.destroy();
    return;
  }
  res.statusCode = 503;
  res.setHeader('Connection', 'close');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ error: { code, message, details: null } }));
}

function fail(line: string, exitCode = 1): never {
  console.error(line);
  process.exit(exitCode);
}
