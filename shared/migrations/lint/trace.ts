// The migration linter's evidence: every migration's `up` run for real, in order, on a scratch database (a temp
// SQLite file, or a fresh MySQL/MariaDB database), recording the schema before and after each one and, on
// MySQL/MariaDB, every statement it sent with the pooled-connection checkout it went out on (a session variable
// such as lock_wait_timeout holds only for later statements of the same checkout). Linting what the migrations
// really send, not their source text: the SQL here is built at run time, per dialect.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { connectDatabase } from '../../db/connection.ts';
import type { Database } from '../../db/connection.ts';
import { migrationContext } from '../runner.ts';
import type { Migration } from '../types.ts';

export interface ColumnShape {
  /** The full declared type (MySQL COLUMN_TYPE plus collation; SQLite's declared type). */
  type: string;
  nullable: boolean;
  /** A default, auto-increment or generated value: an INSERT that leaves the column out still succeeds. */
  hasDefault: boolean;
}

/** table -> column -> shape. */
export type Schema = Map<string, Map<string, ColumnShape>>;

export interface Statement {
  sql: string;
  /** Which checkout of a pooled connection sent it: statements of one checkout share one session. */
  checkout: number;
}

export interface MigrationTrace {
  migration: Migration;
  index: number;
  before: Schema;
  after: Schema;
  /** MySQL/MariaDB only (SQLite has no session settings or online-DDL clauses to check). */
  statements: Statement[];
}

export interface Trace {
  dialect: string;
  migrations: MigrationTrace[];
}

type RawConnection = { query: (...args: unknown[]) => unknown; execute?: (...args: unknown[]) => unknown };

/** Records every statement sent on the database's pooled MySQL connections into `sink` while it is set. */
function recordStatements(db: Database): { start(sink: Statement[]): void; stop(): void } {
  const manager = db.sequelize.connectionManager as unknown as { getConnection(options?: object): Promise<RawConnection> };
  const original = manager.getConnection.bind(manager);
  const checkoutOf = new WeakMap<RawConnection, number>();
  let checkouts = 0;
  let sink: Statement[] | null = null;
  const record = (connection: RawConnection, first: unknown) => {
    const sql = typeof first === 'string' ? first : (first as { sql?: string } | null)?.sql;
    if (sink && sql) sink.push({ sql, checkout: checkoutOf.get(connection)! });
  };
  manager.getConnection = async (options?: object) => {
    const connection = await original(options);
    if (!checkoutOf.has(connection)) {
      for (const method of ['query', 'execute'] as const) {
        const send = connection[method]?.bind(connection);
        if (send) connection[method] = (...args: unknown[]) => (record(connection, args[0]), send(...args));
      }
    }
    checkoutOf.set(connection, ++checkouts);
    return connection;
  };
  return { start: (into) => (sink = into), stop: () => (sink = null) };
}

export async function readSchema(db: Database): Promise<Schema> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ t: string; c: string; type: string; notnull: number; d: string | null; pk: number }>(
          `SELECT m.name AS t, p.name AS c, p.type AS type, p."notnull" AS "notnull", p.dflt_value AS d, p.pk AS pk
           FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
        )
      : await db.select<{ t: string; c: string; type: string; coll: string | null; nullable: string; d: string | null; extra: string }>(
          `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS type, COLLATION_NAME AS coll, IS_NULLABLE AS nullable,
                  COLUMN_DEFAULT AS d, EXTRA AS extra
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`,
        );
  const schema: Schema = new Map();
  for (const row of rows) {
    const shape: ColumnShape =
      'pk' in row
        ? { type: row.type.toUpperCase(), nullable: Number(row.notnull) === 0 && Number(row.pk) === 0, hasDefault: row.d !== null || (Number(row.pk) > 0 && /INT/i.test(row.type)) }
        : {
            type: `${row.type}${row.coll ? ` COLLATE ${row.coll}` : ''}`,
            nullable: row.nullable === 'YES',
            hasDefault: (row.d !== null && row.d !== 'NULL') || /auto_increment|GENERATED/i.test(row.extra),
          };
    if (!schema.has(row.t)) schema.set(row.t, new Map());
    schema.get(row.t)!.set(row.c, shape);
  }
  return schema;
}

/** Runs every migration's up in order on db (an empty database), recording each one. */
export async function traceMigrations(db: Database, migrations: readonly Migration[]): Promise<Trace> {
  const recorder = db.dialect.name === 'sqlite' ? null : recordStatements(db);
  const traces: MigrationTrace[] = [];
  for (const [index, migration] of migrations.entries()) {
    const before = await readSchema(db);
    const statements: Statement[] = [];
    recorder?.start(statements);
    try {
      await migration.up(migrationContext(db));
    } catch (err) {
      throw new Error(`${migration.name} failed on an empty ${db.dialect.name} database: ${(err as Error).message}`);
    } finally {
      recorder?.stop();
    }
    traces.push({ migration, index, before, after: await readSchema(db), statements });
  }
  return { dialect: db.dialect.serverVersion, migrations: traces };
}

/** traceMigrations on a scratch database of its own: a temp SQLite file, or (adminUrl) a fresh MySQL database, removed after. */
export async function traceOnScratchDatabase(migrations: readonly Migration[], adminUrl?: string): Promise<Trace> {
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-lint-'));
    const db = await connectDatabase(`sqlite:${path.join(dir, 'lint.sqlite')}`);
    try {
      return await traceMigrations(db, migrations);
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const name = `db_lint_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: adminUrl, connectTimeout: 5000 });
  try {
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const db = await connectDatabase(`${adminUrl.replace(/\/?$/, '/')}${name}`, { poolMax: 4 });
    try {
      return await traceMigrations(db, migrations);
    } finally {
      await db.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}
