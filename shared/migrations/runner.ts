// The migration runner (umzug, with its history in the `schema_migrations` table). `up` stops before any
// contract migration: only db:contract runs a destructive step, and only when its gate says it is safe.
import { SequelizeStorage, Umzug } from 'umzug';
import { runBackfill } from '../backfill/backfill.ts';
import { fixedControls } from '../backfill/controls.ts';
import { silentProgress } from '../backfill/progress.ts';
import type { Database } from '../db/connection.ts';
import { migrations as allMigrations } from './index.ts';
import type { Migration, MigrationContext } from './types.ts';

export interface MigrationResult {
  name: string;
  ms: number;
}

/** What a migration's up and down are given: the database, a log, and the reverse backfill (099-contract's down). */
export function migrationContext(db: Database, log: (line: string) => void = () => {}): MigrationContext {
  return {
    db,
    log,
    reverseBackfill: (owner) => runBackfill(db, { direction: 'reverse' }, { controls: fixedControls(), progress: silentProgress(), owner }),
  };
}

export function createMigrator(db: Database, log: (line: string) => void = () => {}, migrations: readonly Migration[] = allMigrations) {
  const context = migrationContext(db, log);
  return new Umzug<MigrationContext>({
    migrations: migrations.map((m) => ({ name: m.name, up: () => m.up(context), down: () => m.down(context) })),
    context,
    storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
}

export function knownMigration(name: string, migrations: readonly Migration[] = allMigrations): Migration | undefined {
  return migrations.find((m) => m.name === name);
}

/** Applies pending migrations up to `to` (inclusive), or up to the last one before the contract step. */
export async function migrateUp(
  db: Database,
  { to, log = () => {}, migrations = allMigrations }: { to?: string; log?: (line: string) => void; migrations?: readonly Migration[] } = {},
): Promise<MigrationResult[]> {
  const target = to ?? migrations.filter((m) => !m.contract).at(-1)?.name;
  if (target && !knownMigration(target, migrations)) throw new Error(`unknown migration ${JSON.stringify(target)}`);
  if (target && knownMigration(target, migrations)?.contract) throw new Error(`${target} is the contract step: run it with npm run db:contract`);
  const migrator = createMigrator(db, log, migrations);
  const pending = await migrator.pending();
  const targetIndex = migrations.findIndex((m) => m.name === target);
  const results: MigrationResult[] = [];
  for (const { name } of pending) {
    if (migrations.findIndex((m) => m.name === name) > targetIndex) break;
    const started = performance.now();
    log(`applying ${name}: ${knownMigration(name, migrations)?.description ?? ''}`);
    await migrator.up({ migrations: [name] });
    results.push({ name, ms: Math.round(performance.now() - started) });
  }
  return results;
}

/** Reverts the last applied migration (the way back exists for every step, contract included). */
export async function migrateDown(db: Database, log: (line: string) => void = () => {}, migrations: readonly Migration[] = allMigrations): Promise<MigrationResult | null> {
  const migrator = createMigrator(db, log, migrations);
  const executed = await migrator.executed();
  const last = executed.at(-1);
  if (!last) return null;
  const started = performance.now();
  log(`reverting ${last.name}`);
  await migrator.down({ migrations: [last.name] });
  return { name: last.name, ms: Math.round(performance.now() - started) };
}

export async function appliedMigrations(db: Database, migrations: readonly Migration[] = allMigrations): Promise<string[]> {
  return (await createMigrator(db, () => {}, migrations).executed()).map((m) => m.name);
}
