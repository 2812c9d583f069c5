// Real app instances for tests: in-process (for supertest) or as separate processes (for signals, crashes,
// cross-process flag propagation and the registry), started exactly as `npm run start:vN` starts them.
import type { Application } from 'express';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildV1App } from '../../app-v1/app.ts';
import { buildV2App } from '../../app-v2/app.ts';
import { loadConfig } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import type { Database } from '../../shared/db/connection.ts';
import { startFlags } from '../../shared/flags/index.ts';
import { sqliteTarget } from './databases.ts';
import type { DatabaseTarget, TestDatabase } from './databases.ts';
import { startInstanceProcess } from '../../load/infra/instance-process.ts';
import type { InstanceProcess } from '../../load/infra/instance-process.ts';
import type { Flags } from '../../shared/flags/index.ts';

export interface InProcessApp {
  app: Application;
  flags: Flags;
  close(): Promise<void>;
}

export interface SideBySide {
  database: TestDatabase;
  v1: InProcessApp;
  v2: InProcessApp;
}

/**
 * For one describe block: a fresh database of this target with v1 and v2 in-process on it, created in
 * beforeAll and closed in afterAll (nothing when the target is skipped). Read the fields inside tests and hooks
 * registered after this call.
 */
export function sideBySide(target: DatabaseTarget): SideBySide {
  const apps = {} as SideBySide;
  beforeAll(async () => {
    if (target.skip) return;
    apps.database = await target.create();
    apps.v1 = await inProcessApp('v1', apps.database.db);
    apps.v2 = await inProcessApp('v2', apps.database.db);
  });
  afterAll(async () => {
    await apps.v1?.close();
    await apps.v2?.close();
    await apps.database?.drop();
  });
  return apps;
}

let domainCounter = 0;

/** The real app of a version on a test database, without a listening port (supertest drives it). */
export async function inProcessApp(version: AppVersion, db: Database, env: Record<string, string> = {}): Promise<InProcessApp> {
  const config = loadConfig(version, { FLAG_POLL_MS: '50', ...env });
  const instanceId = `test-${version}-${process.pid}-${++domainCounter}`;
  const logger = pino({ level: 'silent' });
  const flags = await startFlags(db, { domain: instanceId, pollMs: config.FLAG_POLL_MS, logger });
  const deps = { config, instanceId, db, flags, logger };
  const app = version === 'v1' ? buildV1App(deps) : buildV2App(deps);
  return { app, flags, close: () => flags.close() };
}

export { startInstanceProcess, waitFor } from '../../load/infra/instance-process.ts';
export type { InstanceProcess } from '../../load/infra/instance-process.ts';

/**
 * For one describe block: a v1 process on a fresh SQLite database of its own (a block may assert the whole
 * table), started in beforeAll and stopped in afterAll. Read the fields inside tests.
 */
export function v1ProcessOnSqlite(): { database: TestDatabase; v1: InstanceProcess } {
  const real = {} as { database: TestDatabase; v1: InstanceProcess };
  beforeAll(async () => {
    real.database = await sqliteTarget().create();
    real.v1 = await startInstanceProcess('v1', { DATABASE_URL: real.database.url });
  });
  afterAll(async () => {
    await real.v1?.stop();
    await real.database?.drop();
  });
  return real;
}
