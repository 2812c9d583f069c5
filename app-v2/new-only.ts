// New-only (checklist: "After backfill completes and all reads use the new column, remove dual-write logic").
// With the flag write-mode=new-only, v2 reads and writes only profile_data and never names the old columns in
// SQL, so the contract migration can drop them under a running v2. The switch is per request, so a rollback
// (write-mode=dual) takes effect within a flag poll, with no restart.
//
// Why the stage `live` must come first: during the switch some instances already write only profile_data while
// others have not loaded the change yet. If those others still compared profile_data with the old columns,
// they would see every new-only write as drift and serve the stale old columns. In live, every instance
// already trusts profile_data, so instances on either side of the switch answer the same.
import type { Logger } from 'pino';
import type { UsersRepository } from '../shared/db/users-repository.ts';
import type { Flags } from '../shared/flags/index.ts';
import type { Metrics } from '../shared/metrics.ts';
import { mapping } from '../shared/schema-mapping.ts';
import type { DualReader } from './dual-read.ts';
import type { DualWriter } from './dual-write.ts';
import { deriveColumns } from './dual-write.ts';
import { lookupThroughIndex } from './lookup.ts';

export function newOnlyWriter(users: UsersRepository): DualWriter {
  return {
    async create(fields) {
      const id = await users.insertNewOnly(deriveColumns(fields).profileJson);
      return { id, fields };
    },
    update: (id, fields) => users.updateNewOnly(id, deriveColumns(fields).profileJson),
    patch: (id, patch) => users.patchNewOnly(id, patch),
    remove: (id) => users.deleteRow(id),
  };
}

export function newOnlyReader({ users, metrics, logger }: { users: UsersRepository; metrics: Metrics; logger: Logger }): DualReader {
  return {
    lookup: (value, limit, reads) => lookupThroughIndex({ users, logger }, value, limit, reads),
    async read(id, reads) {
      const row = await users.findNewOnly(id, reads);
      if (!row) return null;
      const profile = mapping.readNew(row.profileData);
      if (!profile) {
        // The gates make this unreachable (contract verifies every row first); if it happens, it is a 500, not a guess.
        logger.error({ id }, `new-only read: ${mapping.newColumn} is missing or invalid`);
        throw new Error(`${mapping.entity} ${id}: ${mapping.newColumn} is missing or invalid`);
      }
      metrics.readsBySource.inc({ source: 'new' });
      return { user: { id: row.id, fields: profile }, readSource: 'new' };
    },
  };
}

/** Picks dual-write/dual-read or new-only per request, by the write-mode flag. */
export function byWriteMode(flags: Flags, dual: { writer: DualWriter; reader: DualReader }, newOnly: { writer: DualWriter; reader: DualReader }): { writer: DualWriter; reader: DualReader } {
  const current = () => (flags.get('write-mode') === 'new-only' ? newOnly : dual);
  return {
    writer: {
      create: (fields) => current().writer.create(fields),
      update: (id, fields) => current().writer.update(id, fields),
      patch: (id, patch) => current().writer.patch(id, patch),
      remove: (id) => current().writer.remove(id),
    },
    reader: { read: (id, reads) => current().reader.read(id, reads), lookup: (value, limit, reads) => current().reader.lookup(value, limit, reads) },
  };
}
