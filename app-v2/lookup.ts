// Lookup by a field that moves into the new column (GET <route>?<param>=<value>), served by the dual-read rules
// of the by-id read, for a set of rows:
// - while the old columns are the truth (write mode dual, before stage live), from the old columns exactly as v1
//   answers: the mapping's prefilter (or a scan), each row kept only if its value computed in code from its old
//   columns is byte for byte the one asked for. Never the index: a v1 write leaves the new column stale (and v1's
//   own rows have none), so the index would find a row by a value it no longer has and miss it by the new one;
// - from stage live on (read-trust-new, every row verified, every writer dual-writes) and in new-only, through the
//   index over the new column (006-lookup-index), each row read back through the mapping and kept only when
//   exact; a row whose new column cannot be read back is a 500 with a log line, as the by-id new-only read.
// There is no read shift for a set: the per-key percentage cannot split one answer between two sources.
import type { Logger } from 'pino';
import type { Executor } from '../shared/db/connection.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import type { LookupResult } from '../shared/http/user-routes.ts';
import { mapping } from '../shared/schema-mapping.ts';

/** The old-columns path: what v1 answers. */
export async function lookupFromOldColumns(users: UsersRepository, value: string, limit: number, reads?: Executor): Promise<LookupResult> {
  return { users: await users.findByLookupOld(value, limit, reads), readSource: 'old' };
}

/** The index path: from stage live on, and in new-only. */
export async function lookupThroughIndex({ users, logger }: { users: UsersRepository; logger: Logger }, value: string, limit: number, reads?: Executor): Promise<LookupResult> {
  const found: User[] = [];
  for (const candidate of await users.findByLookupNew(value, limit, reads)) {
    if (candidate.fields === null) {
      // The gates make this unreachable (every row verified before live); if it happens, a 500, not a guess.
      logger.error({ id: candidate.id, lookup: mapping.lookup?.param }, `lookup: ${mapping.newColumn} is missing or invalid`);
      throw new Error(`${mapping.entity} ${candidate.id}: ${mapping.newColumn} is missing or invalid`);
    }
    found.push({ id: candidate.id, fields: candidate.fields });
  }
  return { users: found, readSource: 'new' };
}
