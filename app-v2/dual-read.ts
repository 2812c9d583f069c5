// Dual-read (checklist: "Enable dual-read in the new app: read from old column by default").
//
// While any writer of the old columns may exist (a v1 instance, or v2's own `sequential` strategy after a
// crash), the OLD columns are the truth. The common recipe's read ("prefer profile_data when present") is wrong: a
// v1 update leaves profile_data stale, and that read would serve the stale value. So v2 reads both columns
// of the row in one query and:
// - for users the read shift sends to the new column, returns profile_data only when its fields equal the
//   old columns byte for byte (X-Read-Source: new); otherwise the old columns (X-Read-Source: fallback),
//   counted, because a difference means an old-only writer or a torn write got there after profile_data;
// - for everyone else returns the old columns (X-Read-Source: old), and with dual-read on, compares and
//   counts and logs every mismatch (what LaunchDarkly calls a "shadow" stage, GitHub's Scientist an experiment).
// From stage live on (flag read-trust-new), every read returns profile_data without the comparison: the rollout
// lets it only once no v1 has been alive since a clean verify (shared/rollout/gates.ts).
// Repair on read (REPAIR_ON_READ=1, off by default) fills a missing profile_data from the row's own old
// columns inside the UPDATE, after the response; the batched backfill does the same for every row.
import type { Logger } from 'pino';
import type { Executor } from '../shared/db/connection.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import type { Flags } from '../shared/flags/index.ts';
import type { LookupResult, ReadSource } from '../shared/http/user-routes.ts';
import type { Metrics } from '../shared/metrics.ts';
import { columns, mapping } from '../shared/schema-mapping.ts';
import { lookupFromOldColumns, lookupThroughIndex } from './lookup.ts';
import { readsNewColumn } from './read-shift.ts';
import type { Key } from '../shared/mapping-contract.ts';

export interface DualReader {
  /** `reads`: the server to read from (the replica or the primary, shared/db/replica/); the primary by default. */
  read(id: Key, reads?: Executor): Promise<{ user: User; readSource: ReadSource } | null>;
  /** The rows whose lookup value is exactly `value` (app-v2/lookup.ts says which columns answer, by stage). */
  lookup(value: string, limit: number, reads?: Executor): Promise<LookupResult>;
}

export function dualReadPolicy({
  users,
  flags,
  metrics,
  logger,
  repairOnRead,
}: {
  users: UsersRepository;
  flags: Flags;
  metrics: Metrics;
  logger: Logger;
  repairOnRead: boolean;
}): DualReader {
  const answer = (user: User, readSource: ReadSource) => {
    metrics.readsBySource.inc({ source: readSource });
    return { user, readSource };
  };
  return {
    // Stage live trusts the new column, and only then may its index answer; before, the old columns do.
    lookup: (value, limit, reads) => (flags.get('read-trust-new') ? lookupThroughIndex({ users, logger }, value, limit, reads) : lookupFromOldColumns(users, value, limit, reads)),
    async read(id, reads) {
      // The default path (old columns, dual-read off, no repair) needs nothing from profile_data: read exactly
      // what v1 reads, so dual-read costs nothing until the rollout asks for a comparison (make bench).
      if (!repairOnRead && !flags.get('read-trust-new') && !flags.get('dual-read') && !readsNewColumn(id, flags.get('read-new-percent'))) {
        const user = await users.findOld(id, reads);
        return user ? answer(user, 'old') : null;
      }
      const row = await users.findWithProfile(id, reads);
      if (!row) return null;
      const profile = mapping.readNew(row.profileData);
      if (profile === null && repairOnRead) {
        users
          .repairMissingProfile(id)
          .then((repaired) => repaired && metrics.repairs.inc())
          .catch((err: unknown) => logger.warn({ err, id }, 'repair on read failed'));
      }
      if (row.fields === null) {
        // Written in write mode new-only (its old columns were left out): the new column is the row's only copy.
        if (profile !== null) return answer({ id, fields: profile }, 'new');
        throw new Error(`${mapping.entity} ${id}: no old columns and the new column is missing or invalid`);
      }
      const old: User = { id, fields: row.fields };
      if (flags.get('read-trust-new')) {
        // Stage live: no v1 has been alive since a clean verify, and every writer dual-writes (or, during the
        // switch to new-only, writes profile_data only), so profile_data is the truth. Trust it without comparing.
        if (profile !== null) return answer({ id, fields: profile }, 'new');
        metrics.readFallbacks.inc({ reason: row.profileData === null ? 'missing' : 'invalid' });
        return answer(old, 'fallback');
      }
      const readNewPercent = flags.get('read-new-percent');
      const compareBoth = flags.get('dual-read');
      const differing = profile === null ? null : mapping.differingFields(profile, old.fields);
      const mismatch = profile === null ? (row.profileData === null ? 'missing' : 'invalid') : differing!.length > 0 ? 'different' : null;

      if (readsNewColumn(id, readNewPercent)) {
        if (mismatch === null) return answer({ id, fields: profile! }, 'new');
        metrics.readFallbacks.inc({ reason: mismatch });
        logger.info({ id, reason: mismatch, fields: differing }, 'read fell back to the old columns');
        return answer(old, 'fallback');
      }
      if (compareBoth && mismatch !== null) {
        metrics.dualReadMismatches.inc({ reason: mismatch });
        // Missing is expected until the backfill has passed; a difference is worth a look.
        if (mismatch === 'missing') logger.debug({ id }, `dual-read: ${columns.new} missing`);
        else logger.warn({ id, reason: mismatch, fields: differing }, `dual-read: ${columns.new} differs from the old columns`);
      }
      return answer(old, 'old');
    },
  };
}
