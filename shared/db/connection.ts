// Database connection: SQLite (embedded default) or MySQL/MariaDB. Everything speaks plain, parameterized SQL
// through `Database`: the rollout is about exact statements (which columns, how many round trips), and an ORM
// that hides them would hide the lesson. Sequelize is the connection and dialect layer for SQLite and for the
// tools; the instances' MySQL pools speak to mysql2 directly (`direct`, mysql-direct.ts), so that an instance
// does not load Sequelize at all (its memory). Sequelize is imported only when a connection needs it.
import path from 'node:path';
import type { Sequelize, Transaction } from 'sequelize';
import type { Dialect } from './dialect.ts';
import { dialectFor } from './dialect.ts';
import type { Executor, Param } from './executor.ts';
import { createDirectPool, MYSQL_DRIVER_SETTINGS } from './mysql-direct.ts';

export type { Executor, Param } from './executor.ts';

export interface Database extends Executor {
  /** The Sequelize instance under this connection (umzug's storage, the online-DDL hooks); a `direct` one has none and throws. */
  readonly sequelize: Sequelize;
  readonly dialect: Dialect;
  /** Runs fn in one transaction; on SQLite it starts with BEGIN IMMEDIATE (take the write lock up front, never upgrade). */
  transaction<T>(fn: (tx: Executor) => Promise<T>, options?: { isolation?: 'READ COMMITTED' }): Promise<T>;
  close(): Promise<void>;
}

const SQLITE_BUSY_TIMEOUT_MS = 5000;

export interface DatabaseOptions {
  poolMax?: number;
  /** MySQL only: how long to wait for a connection to the server before reporting it unreachable. */
  connectTimeoutMs?: number;
  /**
   * MySQL only: speak to mysql2 directly, without loading Sequelize (the instances' pools; mysql-direct.ts). The
   * same statements and answers; `sequelize` throws. Ignored for SQLite, which always goes through Sequelize.
   */
  direct?: boolean;
}

export async function connectDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  if (options.direct && url.startsWith('mysql://')) return connectDirect(url, options);
  const sequelizeModule = await import('sequelize');
  const sequelize = createSequelize(sequelizeModule, url, options);
  const dialect = await dialectFor(executor(sequelizeModule, sequelize), sequelize.getDialect() === 'sqlite');
  return wrap(sequelizeModule, sequelize, dialect);
}

async function connectDirect(url: string, { poolMax = 20, connectTimeoutMs = 2000 }: DatabaseOptions): Promise<Database> {
  const pool = createDirectPool(url, { poolMax, connectTimeoutMs });
  let dialect: Dialect;
  try {
    dialect = await dialectFor(pool, false);
  } catch (err) {
    await pool.close().catch(() => {});
    throw err;
  }
  return {
    ...pool,
    dialect,
    get sequelize(): Sequelize {
      throw new Error('this database connection speaks to mysql2 directly (connectDatabase direct: true): it has no Sequelize instance');
    },
  };
}

type SequelizeModule = typeof import('sequelize');

function createSequelize({ Sequelize }: SequelizeModule, url: string, { poolMax = 20, connectTimeoutMs = 2000 }: DatabaseOptions): Sequelize {
  if (url.startsWith('sqlite:')) {
    const storage = path.resolve(url.slice('sqlite:'.length));
    const sequelize = new Sequelize({ dialect: 'sqlite', storage, logging: false });
    configureSqliteConnections(sequelize);
    return sequelize;
  }
  if (url.startsWith('mysql://')) {
    return new Sequelize(url, {
      dialect: 'mysql',
      logging: false,
      pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
      dialectOptions: {
        connectTimeout: connectTimeoutMs,
        ...MYSQL_DRIVER_SETTINGS,
      },
      timezone: '+00:00',
    });
  }
  throw new Error(`unsupported database URL ${JSON.stringify(url)}: use sqlite:<path> or mysql://...`);
}

/**
 * Sequelize opens one SQLite connection for plain queries and one per transaction, and offers no hook for
 * them: wrap getConnection so every connection gets a busy timeout (several processes share the file, and a
 * writer waiting for the lock must wait, not fail with SQLITE_BUSY) and the file runs in WAL mode (readers
 * never block the writer).
 */
function configureSqliteConnections(sequelize: Sequelize): void {
  type SqliteConnection = { configure(option: 'busyTimeout', ms: number): void; exec(sql: string, cb: (err: Error | null) => void): void };
  const manager = sequelize.connectionManager as unknown as { getConnection(options?: object): Promise<SqliteConnection> };
  const original = manager.getConnection.bind(manager);
  const configured = new WeakSet<SqliteConnection>();
  manager.getConnection = async (options?: object) => {
    const connection = await original(options);
    if (!configured.has(connection)) {
      configured.add(connection);
      connection.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS);
      await new Promise<void>((resolve, reject) =>
        connection.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;', (err) => (err ? reject(err) : resolve())),
      );
    }
    return connection;
  };
}

function executor({ QueryTypes }: SequelizeModule, sequelize: Sequelize, transaction?: Transaction): Executor {
  return {
    async select<Row extends object>(sql: string, params: Param[] = []) {
      return sequelize.query<Row>(sql, { bind: params, type: QueryTypes.SELECT, transaction, raw: true });
    },
    async update(sql: string, params: Param[] = []) {
      return (await sequelize.query(sql, { bind: params, type: QueryTypes.BULKUPDATE, transaction })) as unknown as number;
    },
    async insert(sql: string, params: Param[] = []) {
      const [id] = (await sequelize.query(sql, { bind: params, type: QueryTypes.INSERT, transaction })) as unknown as [number, number];
      return Number(id);
    },
    async run(sql: string, params: Param[] = []) {
      await sequelize.query(sql, { bind: params.length > 0 ? params : undefined, type: QueryTypes.RAW, transaction });
    },
  };
}

function wrap(sequelizeModule: SequelizeModule, sequelize: Sequelize, dialect: Dialect): Database {
  const { Transaction } = sequelizeModule;
  return {
    ...executor(sequelizeModule, sequelize),
    sequelize,
    dialect,
    async transaction(fn, options = {}) {
      return sequelize.transaction(
        {
          type: dialect.name === 'sqlite' ? Transaction.TYPES.IMMEDIATE : undefined,
          isolationLevel:
            options.isolation === 'READ COMMITTED' && dialect.name !== 'sqlite' ? Transaction.ISOLATION_LEVELS.READ_COMMITTED : undefined,
        },
        (transaction) => fn(executor(sequelizeModule, sequelize, transaction)),
      );
    },
    async close() {
      await sequelize.close();
    },
  };
}
