// ############################################################################################################
// #  ANTI-PATTERNS: WRONG ON PURPOSE. Never copy anything from this file.                                   #
// #  Active only when v2 is started with ANTI_PATTERN=<name> (make demo SCENARIO=<name>). Each one is a     #
// #  pitfall of the common recipe made runnable, so that the demo's consistency checker can show it fail.          #
// ############################################################################################################
//
// | ANTI_PATTERN      | what v2 does wrong                                          | what the checker reports            |
// |-------------------|-------------------------------------------------------------|-------------------------------------|
// | new-only-write    | writes only profile_data while v1 still runs                | garbage (missing) and stale via v1  |
// | new-first-crash   | writes profile_data first, answers, crashes before the old  | new ahead of old; stale via v1      |
// | prefer-new-read   | the common recipe's read: returns profile_data whenever present   | stale reads after v1 updates        |
// | early-read-shift  | reads only profile_data, no fallback, before the backfill   | garbage (missing) reads             |
// | cached-old-read   | caches reads in process memory                              | stale reads                         |
// | replica-reads     | reads from the replica, ignoring the consistency token      | stale reads while the replica lags  |
import type { AntiPattern } from '../shared/config.ts';
import type { Database } from '../shared/db/connection.ts';
import { readYourWrites } from '../shared/db/replica/read-your-writes.ts';
import type { ReplicaReads } from '../shared/db/replica/read-your-writes.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import { mapping } from '../shared/schema-mapping.ts';
import type { DualReader } from './dual-read.ts';
import { deriveColumns } from './dual-write.ts';
import type { DualWriter } from './dual-write.ts';
import type { Key } from '../shared/mapping-contract.ts';

/**
 * new-first-crash dies after its 5th update. It answers first (its old columns are written behind the answer)
 * because a crash before the answer would be hidden here: the balancer re-sends a PUT whose connection broke to
 * the next instance (and the load client retries it), which rewrites both columns. An answered PUT nobody re-sends.
 */
const CRASH_AFTER_UPDATE = 5;
/** Long enough for the answer to leave the process before it dies. */
const CRASH_DELAY_MS = 100;

export function withAntiPattern(
  antiPattern: AntiPattern | undefined,
  { writer, reader, users, db: _db, crash }: { writer: DualWriter; reader: DualReader; users: UsersRepository; db: Database; crash: () => never },
): { writer: DualWriter; reader: DualReader } {
  switch (antiPattern) {
    case undefined:
    case 'replica-reads': // wrong in where reads go, not in what they do: naiveReplicaReads below
      return { writer, reader };

    case 'new-only-write':
      // WRONG: v1 reads the old columns, which this never fills (empty on create, stale on update).
      return {
        reader,
        writer: {
          ...writer,
          create: async (fields) => {
            const { profileJson } = deriveColumns(fields);
            const empty = Object.fromEntries(mapping.oldColumnNames.map((column) => [column, '']));
            const user = await users.insertBoth(empty, profileJson);
            return { ...user, fields };
          },
          update: (id, fields) => users.updateNew(id, deriveColumns(fields).profileJson),
        },
      };

    case 'new-first-crash': {
      // WRONG twice: the new column first, and the old columns only after the answer. The process dies in between,
      // so an acknowledged write sits in profile_data where v1 cannot see it (the common recipe: "the old app would see
      // incomplete data immediately"). Creates are one correct INSERT: a row has no older value to fall behind to.
      let updates = 0;
      return {
        reader,
        writer: {
          ...writer,
          update: async (id, fields) => {
            const { old, profileJson } = deriveColumns(fields);
            if (!(await users.updateNew(id, profileJson))) return false;
            if (++updates === CRASH_AFTER_UPDATE) {
              setTimeout(crash, CRASH_DELAY_MS);
              return true;
            }
            return users.updateOld(id, old);
          },
        },
      };
    }

    case 'prefer-new-read':
      // WRONG: the common recipe's read. profile_data is stale after any v1 update.
      return {
        writer,
        reader: {
          lookup: reader.lookup,
          async read(id) {
            const row = await users.findWithProfile(id);
            if (!row) return null;
            const profile = mapping.readNew(row.profileData);
            if (profile) return { user: { id, fields: profile }, readSource: 'new' };
            return row.fields ? { user: { id, fields: row.fields }, readSource: 'old' } : null;
          },
        },
      };

    case 'early-read-shift':
      // WRONG: every read from profile_data, no fallback, before the backfill filled it: rows look missing.
      return {
        writer,
        reader: {
          lookup: reader.lookup,
          async read(id) {
            const row = await users.findWithProfile(id);
            const profile = row && mapping.readNew(row.profileData);
            return profile ? { user: { id, fields: profile }, readSource: 'new' } : null;
          },
        },
      };

    case 'cached-old-read': {
      // WRONG: an in-process cache of reads. Another instance's (or version's) write never invalidates it.
      const cache = new Map<Key, { user: User; readSource: 'old' }>();
      return {
        writer,
        reader: {
          lookup: reader.lookup,
          async read(id) {
            const hit = cache.get(id);
            if (hit) return hit;
            const found = await reader.read(id);
            if (found) cache.set(id, { user: found.user, readSource: 'old' });
            return found;
          },
        },
      };
    }
  }
}

/**
 * replica-reads: WRONG: every read from the replica, whatever token it carries ("the replica is only a few ms
 * behind"). Writes still answer with tokens (v1 beside it honours them); this reader ignores them, so a user
 * who just wrote can read the replica's older value, and more so the moment the replica lags.
 */
export function naiveReplicaReads({ primary, replica }: { primary: Database; replica: Database }): ReplicaReads {
  const correct = readYourWrites({ primary, replica });
  return { ...correct, route: async () => ({ reads: replica, from: 'replica', tokenAfterRead: async () => null }) };
}
