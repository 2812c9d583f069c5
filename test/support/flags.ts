// Setting flags in a test: write them as the CLI and the admin API do, then wait (poll, deadline) until every
// given in-process app has loaded that flag-set version, so the next request is served with the new values.
import type { Database } from '../../shared/db/connection.ts';
import type { FlagValues } from '../../shared/flags/registry.ts';
import { readFlagSet, writeFlags } from '../../shared/flags/store.ts';
import type { InProcessApp } from './instances.ts';
import { waitFor } from './instances.ts';

export async function setFlags(db: Database, changes: Partial<FlagValues>, apps: InProcessApp[]): Promise<number> {
  const version = await writeFlags(db, changes, 'test');
  for (const app of apps) {
    await waitFor(() => ((app.flags.loaded().version ?? -1) >= version ? true : undefined), { what: `flag-set version ${version} to load` });
  }
  return version;
}

/** The stored flag set (values and version), for "nothing changed" assertions. */
export async function storedFlagSet(db: Database): Promise<{ version: number; values: FlagValues } | null> {
  const set = await readFlagSet(db);
  return set && { version: set.version, values: set.values };
}
