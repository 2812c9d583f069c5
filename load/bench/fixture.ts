// What the HTTP parts of the bench run against: one MySQL/MariaDB database of the bench's own (dropped at the
// end), users seeded with both representations equal (so a read at read-new 100% is served from profile_data,
// not a fallback), and app instances started as `npm run start:vN` starts them, all with the same pool size.
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { writeFlags } from '../../shared/flags/store.ts';
import type { FlagValues } from '../../shared/flags/registry.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { dropDatabase, ownDatabase, spawnNode } from '../infra/cleanup.ts';
import { startInstanceProcess, waitFor } from '../infra/instance-process.ts';
import type { AppVersion, InstanceProcess } from '../infra/instance-process.ts';

export class HttpFixture {
  private readonly instances: InstanceProcess[] = [];

  private constructor(
    readonly url: string,
    readonly db: Database,
    private readonly database: string,
    private readonly mysqlUrl: string,
    private readonly poolMax: number,
    private readonly release: () => void,
  ) {}

  static async create(mysqlUrl: string, poolMax: number): Promise<HttpFixture> {
    const database = `bench_http_${process.pid}`;
    const admin = await mysql.createConnection({ uri: mysqlUrl });
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    const release = ownDatabase(mysqlUrl, database);
    await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
    const url = `${mysqlUrl.replace(/\/?$/, '/')}${database}`;
    const db = await connectDatabase(url, { poolMax: 2 });
    await migrateUp(db);
    return new HttpFixture(url, db, database, mysqlUrl, poolMax, release);
  }

  /** `count` users written as v2 writes them (old columns and an equal profile_data); their ids. */
  async seedUsers(count: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    const users = usersRepository(this.db);
    const perInsert = Math.min(500, users.maxRowsPerInsert(true));
    for (let start = 0; start < count; start += perInsert) {
      const rows = Array.from({ length: Math.min(perInsert, count - start) }, (_, i) => mapping.sampleFields(`${label}-${start + i}`, 'bench.example.test'));
      // The load's keys are opaque strings; the repository gives them as the database does.
      ids.push(...(await users.insertMany(rows, { withNew: true })).map(String));
    }
    return ids;
  }

  /** An instance as `npm run start:vN` runs it (tsx); with `compiled`, the compiled build under plain node. */
  async start(version: AppVersion, env: Record<string, string> = {}, compiled?: { dist: string; nodeArgs: string[] }): Promise<InstanceProcess> {
    const fullEnv = { DATABASE_URL: this.url, DB_POOL_MAX: String(this.poolMax), LOG_LEVEL: 'warn', ...env };
    const instance = compiled
      ? await startCompiledInstance(compiled.dist, version, fullEnv, compiled.nodeArgs)
      : await startInstanceProcess(version, fullEnv, { timeoutMs: 60_000 });
    this.instances.push(instance);
    return instance;
  }

  /** The bare Express + mysql2 server (the memory part's floor) on this database, with the instances' pool size; not a v1 or v2, so setFlags does not wait for it. */
  async startBare(dist: string): Promise<InstanceProcess> {
    const bare = await startBareServer(dist, {
      DATABASE_URL: this.url,
      DB_POOL_MAX: String(this.poolMax),
      BARE_TABLE: mapping.table,
      BARE_KEY: mapping.keyColumn,
      BARE_COLUMNS: mapping.oldColumnNames.join(','),
      BARE_ROUTE: mapping.route,
    });
    this.instances.push(bare);
    return bare;
  }

  /** Writes flags and waits until every running v2 instance has loaded them (its /healthz flag-set version). */
  async setFlags(changes: Partial<FlagValues>): Promise<void> {
    const version = await writeFlags(this.db, changes, 'make bench');
    for (const instance of this.instances.filter((i) => i.version === 'v2' && i.child.exitCode === null)) {
      await waitFor(
        async () => {
          const health = (await (await fetch(`${instance.url}/healthz`)).json()) as { flagSetVersion: number | null };
          return (health.flagSetVersion ?? -1) >= version ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, what: `${instance.url} to load flag-set version ${version}` },
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    await this.db.close();
    await dropDatabase(this.mysqlUrl, this.database);
    this.release();
  }
}

/**
 * The instances as the container image runs them: TypeScript compiled once by tsconfig.build.json into `dir`
 * (node_modules linked beside it), started with plain `node` and no tsx loader. Null (with the reason) when the
 * project has no build config.
 */
export async function buildCompiled(root: string, dir: string): Promise<{ dir: string } | { skipped: string }> {
  const config = path.join(root, 'tsconfig.build.json');
  if (!fs.existsSync(config)) return { skipped: 'no tsconfig.build.json' };
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // --noCheck: emit only (6 s instead of 25 here); type checking is `make test`'s job.
  const child = spawnNode('process', 'tsc', [tsc, '-p', config, '--noCheck', '--outDir', path.join(dir, 'dist')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }, { tsx: false });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const server = path.join(dir, 'dist', 'app-v2', 'server.js');
  if (!fs.existsSync(server)) return { skipped: `tsc exited ${code} without ${server}: ${output.split('\n')[0]}` };
  fs.writeFileSync(path.join(dir, 'dist', 'package.json'), '{ "type": "module" }\n');
  if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return { dir: path.join(dir, 'dist') };
}

/** The memory part's floor: `node <dist>/load/bench/bare-server.js` on port 0, with the instances' pool size. */
export function startBareServer(dist: string, env: Record<string, string>): Promise<InstanceProcess> {
  return startInstanceProcess('v1', { ...env, INSTANCE_ID: 'bare' }, { timeoutMs: 30_000, nodeArgv: [path.join(dist, 'load', 'bench', 'bare-server.js')] });
}

/** `node [nodeArgs] <dist>/app-vN/server.js` on port 0; resolves once it prints its "listening on" line. */
export function startCompiledInstance(dist: string, version: AppVersion, env: Record<string, string>, nodeArgs: string[] = []): Promise<InstanceProcess> {
  return startInstanceProcess(version, env, { timeoutMs: 30_000, nodeArgv: [...nodeArgs, path.join(dist, `app-${version}`, 'server.js')] });
}
