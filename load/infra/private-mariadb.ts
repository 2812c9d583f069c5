// Private MariaDB servers for the tests that must do what is never done to the machine's shared server:
// stop and restart it mid-load (the database-outage chaos test), kill -9 it, or pair it with a GTID replica
// (replica lag, read-your-writes). Each server has its own temp dir (datadir, socket, pid file, error log),
// its own loopback port, and `--no-defaults`, so nothing is read from or written to the system's MariaDB
// config, /run/mysqld or port 3306. Polls with deadlines; no fixed sleeps.
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { mariadbReplication as replication } from '../../shared/db/replica/mariadb.ts';
import { freePort } from './balancer/ports.ts';
import { own, ownChild } from './cleanup.ts';

export interface PrivateMariadbOptions {
  /** 0 (the default) picks a free port; restarts reuse it. */
  port?: number;
  serverId?: number;
  /** Binary log (needed on a replication primary). */
  logBin?: boolean;
  /**
   * Base dir (datadir, tmpdir, socket, pid, error log inside; its parents must be traversable by the mysql
   * user); reused as is when it already holds a datadir. A temp dir, removed by destroy(), when omitted.
   */
  dir?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface PrivateMariadb {
  port: number;
  /** mysql://root@127.0.0.1:PORT/ (root, empty password). */
  url: string;
  dataDir: string;
  dir: string;
  serverId: number;
  readonly running: boolean;
  /** Graceful shutdown (SIGTERM), SIGKILL after stopTimeoutMs. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; InnoDB recovers on the next start(). */
  kill(): Promise<void>;
  /** Starts again on the same datadir and port. */
  start(): Promise<void>;
  /** Stops (SIGKILL) and removes the dir if this harness made it. */
  destroy(): Promise<void>;
  /** A new connection as root; the caller ends it. */
  connect(): Promise<Connection>;
}

const BINARIES = { server: 'mariadbd', install: 'mariadb-install-db' } as const;
const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    try {
      accessSync(path.join(dir, name), fsConstants.X_OK);
      return path.join(dir, name);
    } catch {
      // not here: try the next dir
    }
  }
  return null;
}

/** Why private servers cannot run here (mariadbd or mariadb-install-db missing), or null when they can. */
export function privateMariadbUnavailable(): string | null {
  const missing = Object.values(BINARIES).filter((name) => findBinary(name) === null);
  return missing.length === 0 ? null : `${missing.join(' and ')} not found on PATH or in ${SEARCH_DIRS.join(', ')} (Debian: apt-get install mariadb-server)`;
}

function binary(name: string): string {
  const found = findBinary(name);
  if (!found) throw new Error(`private MariaDB: ${privateMariadbUnavailable()}`);
  return found;
}

// Small and fast rather than durable against power loss: flush_log_at_trx_commit=2 still survives a
// mariadbd crash (kill -9), which is all a test server needs.
const SERVER_TUNING = [
  '--innodb-buffer-pool-size=64M',
  '--innodb-log-file-size=16M',
  '--innodb-flush-log-at-trx-commit=2',
  '--sync-binlog=0',
  '--performance-schema=OFF',
  '--skip-name-resolve',
  '--max-connections=300',
];

/** mariadbd refuses to run as root; as root we hand it the mysql user and the dir. */
const runningAsRoot = process.getuid?.() === 0;

async function chownToMysql(target: string): Promise<void> {
  if (!runningAsRoot) return;
  const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }).trim());
  await chown(target, uid, gid);
}

function runToCompletion(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} failed (${error.message}):\n${stdout}${stderr}`));
      else resolve();
    });
    ownChild('process', path.basename(file), child);
  });
}

async function exists(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    () => false,
  );
}

async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const MAX_PORT_ATTEMPTS = 3;

export async function startPrivateMariadb(options: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const { serverId = 1, logBin = false, startTimeoutMs = 30_000, stopTimeoutMs = 20_000 } = options;
  const server = binary(BINARIES.server);
  const install = binary(BINARIES.install);
  const ownsDir = options.dir === undefined;
  const dir = path.resolve(options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'private-mariadb-'))));
  const entry: { child?: ChildProcess } = {};
  // Owned by the run (load/infra/cleanup.ts): an interrupt, the exit of a test process that skipped its
  // afterAll, or the reaper after a kill -9 removes the dir; the server is owned from its launch.
  const releaseDir = ownsDir ? own({ kind: 'folder', name: dir, stop: () => rm(dir, { recursive: true, force: true }), reap: { folder: dir } }) : () => {};
  const dataDir = path.join(dir, 'data');
  // Its own tmpdir too: the shared /tmp is where other servers put their temp tables.
  const tmpDir = path.join(dir, 'tmp');
  const errorLog = path.join(dir, 'error.log');
  let port = options.port || 0;
  let exited: Promise<void> = Promise.resolve();

  const isRunning = () => entry.child !== undefined && entry.child.exitCode === null && entry.child.signalCode === null;

  async function installIfNeeded(): Promise<void> {
    await mkdir(tmpDir, { recursive: true });
    await chownToMysql(dir);
    await chownToMysql(tmpDir);
    if (await exists(path.join(dataDir, 'mysql'))) return;
    await runToCompletion(install, [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      `--tmpdir=${tmpDir}`,
      '--innodb-log-file-size=16M',
    ]);
  }

  async function launch(): Promise<void> {
    const args = [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
      `--log-error=${errorLog}`,
      `--tmpdir=${tmpDir}`,
      `--server-id=${serverId}`,
      '--bind-address=127.0.0.1',
      ...SERVER_TUNING,
      ...(logBin ? ['--log-bin=mariadb-bin', '--binlog-format=ROW'] : []),
    ];
    const child = spawn(server, args, { stdio: 'ignore' });
    entry.child = child;
    // Its data is thrown away with the dir it owns: a kill is enough. A dir the caller keeps gets a clean shutdown.
    ownChild('mariadb', `private MariaDB :${port}`, child, { stop: () => signalAndWait(ownsDir ? 'SIGKILL' : 'SIGTERM', stopTimeoutMs) });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let failure: Error | undefined;
    child.once('error', (err) => (failure = err));
    void exited.then(() => (failure ??= new Error(`mariadbd exited before accepting connections`)));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (failure) throw new Error(`${failure.message}\n${await tail(errorLog)}`);
      try {
        const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
        const [rows] = await connection.query('SELECT @@datadir AS dataDir');
        await connection.end();
        // Another server that grabbed the port first is not ours: ours will fail to bind and exit.
        if (path.resolve((rows as { dataDir: string }[])[0]!.dataDir) === dataDir) return;
        throw new Error(`port ${port} is served by another server`);
      } catch (err) {
        if (Date.now() >= deadline) {
          child.kill('SIGKILL');
          await exited;
          throw new Error(`mariadbd on port ${port} did not accept a connection within ${startTimeoutMs} ms (${(err as Error).message})\n${await tail(errorLog)}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function signalAndWait(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (!isRunning()) return;
    entry.child!.kill(signal);
    const timer = setTimeout(() => entry.child!.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  try {
    await installIfNeeded();
    // A port picked as free can be taken before mariadbd binds it: pick again (only when we picked it).
    for (let attempt = 1; ; attempt++) {
      if (!options.port) port = await freePort();
      try {
        await launch();
        break;
      } catch (err) {
        const portTaken = /Address already in use/.test((err as Error).message);
        if (!portTaken || options.port || attempt >= MAX_PORT_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    releaseDir();
    throw err;
  }

  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/`,
    dataDir,
    dir,
    serverId,
    get running() {
      return isRunning();
    },
    stop: () => signalAndWait('SIGTERM', stopTimeoutMs),
    kill: () => signalAndWait('SIGKILL', stopTimeoutMs),
    async start() {
      if (isRunning()) throw new Error(`private MariaDB on port ${port} is already running`);
      await launch();
    },
    async destroy() {
      await signalAndWait('SIGKILL', stopTimeoutMs);
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      releaseDir();
    },
    connect: () => mysql.createConnection({ host: '127.0.0.1', port, user: 'root' }),
  };
}

export interface ReplicaPair {
  primary: PrivateMariadb;
  replica: PrivateMariadb;
  /** STOP SLAVE SQL_THREAD: the replica keeps receiving events but applies none (lag at will). */
  stopReplicaSqlThread(): Promise<void>;
  startReplicaSqlThread(): Promise<void>;
  /** MASTER_GTID_WAIT on the replica: true once it has applied `gtid`, false after timeoutS seconds. */
  waitForGtid(gtid: string, timeoutS: number): Promise<boolean>;
  /** The primary's @@gtid_binlog_pos: everything written so far (wait for it to see the replica catch up). */
  primaryGtidPos(): Promise<string>;
  /** Kills both servers and removes their dirs. */
  stop(): Promise<void>;
}

/** The GTID of the last transaction written on this connection (@@last_gtid is per connection). */
export async function lastGtid(connection: Connection): Promise<string> {
  const [rows] = await connection.query('SELECT @@last_gtid AS gtid');
  return String((rows as { gtid: string }[])[0]!.gtid);
}

async function onServer<T>(server: PrivateMariadb, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await server.connect();
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/**
 * A primary (binary log on) and a replica following it with GTID replication (MASTER_USE_GTID=slave_pos).
 * MASTER_CONNECT_RETRY=1: after a primary restart the replica reconnects within a second, not 60.
 */
export async function startReplicaPair({ startTimeoutMs = 30_000 }: { startTimeoutMs?: number } = {}): Promise<ReplicaPair> {
  const started = await Promise.allSettled([startPrivateMariadb({ serverId: 1, logBin: true }), startPrivateMariadb({ serverId: 2 })]);
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  const destroyAll = async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  };
  if (failed) {
    await destroyAll();
    throw failed.reason;
  }
  const [primary, replica] = servers as [PrivateMariadb, PrivateMariadb];
  try {
    await onServer(replica, async (connection) => {
      for (const statement of replication.followSql({ host: '127.0.0.1', port: primary.port, user: 'root', password: '' })) await connection.query(statement);
      const deadline = Date.now() + startTimeoutMs;
      for (;;) {
        const [rows] = await connection.query(replication.statusSql);
        const status = replication.statusOf((rows as Record<string, unknown>[])[0]);
        if (status.ioRunning && status.sqlRunning) return;
        if (Date.now() >= deadline) {
          throw new Error(`replica did not start replicating within ${startTimeoutMs} ms: IO ${status.ioRunning ? 'running' : 'stopped'}, SQL ${status.sqlRunning ? 'running' : 'stopped'} ${status.lastError}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });
  } catch (err) {
    await destroyAll();
    throw err;
  }
  return {
    primary,
    replica,
    stopReplicaSqlThread: () => onServer(replica, async (connection) => void (await connection.query(replication.stopSqlThreadSql))),
    startReplicaSqlThread: () => onServer(replica, async (connection) => void (await connection.query(replication.startSqlThreadSql))),
    waitForGtid: (gtid, timeoutS) =>
      onServer(replica, async (connection) => {
        const [rows] = await connection.query('SELECT MASTER_GTID_WAIT(?, ?) AS result', [gtid, timeoutS]);
        const result = (rows as { result: number | null }[])[0]?.result;
        if (result === null || result === undefined) throw new Error(`MASTER_GTID_WAIT('${gtid}') returned NULL: not a valid GTID position?`);
        return Number(result) === 0;
      }),
    primaryGtidPos: () =>
      onServer(primary, async (connection) => {
        const [rows] = await connection.query('SELECT @@gtid_binlog_pos AS pos');
        return String((rows as { pos: string }[])[0]!.pos);
      }),
    stop: destroyAll,
  };
}
