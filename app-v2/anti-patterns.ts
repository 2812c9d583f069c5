// ############################################################################################################
// #  ANTI-PATTERNS: WRONG ON PURPOSE. Never copy anything from this file.                                   #
// #  Active only when v2 is started with ANTI_PATTERN=<name> (make demo SCENARIO=<name>). Each one is a     #
// #  warning from the seed made runnable, so that the demo's consistency checker can show it fail.          #
// ############################################################################################################
//
// | ANTI_PATTERN      | what v2 does wrong                                          | what the checker reports            |
// |-------------------|-------------------------------------------------------------|-------------------------------------|
// | new-only-write    | writes only profile_data while v1 still runs                | garbage (missing) and stale via v1  |
// | new-first-crash   | writes profile_data first, crashes before the old columns   | new ahead of old; garbage via v1    |
// | prefer-new-read   | the seed's snippet: returns profile_data whenever present   | stale reads after v1 updates        |
// | early-read-shift  | reads only profile_data, no fallback, before the backfill   | garbage (missing) reads             |
// | cached-old-read   | caches reads in process memory                              | stale reads                         |
// | replica-reads     | reads from the replica, ignoring the consistency token      | stale reads while the replica lags  |
import type { AntiPattern } from '../shared/config.ts';
import type { Database } from '../shared/db/connection.ts';
import { readYourWrites } from '../shared/db/replica/read-your-writes.ts';
import type { ReplicaReads } from '../shared/db/replica/read-your-writes.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import { fromProfileData, parseProfileData } from '../shared/schema-mapping.ts';
import type { DualReader } from './dual-read.ts';
import { deriveColumns } from './dual-write.ts';
import type { DualWriter } from './dual-write.ts';


/**
 * new-first-crash dies on this create, leaving a half-made row. (A crash in a PUT would be hidden here: the
 * balancer re-sends a PUT whose connection broke to the next instance, which rewrites both columns. A POST it
 * never re-sends.)
 */
const CRASH_ON_CREATE = 5;

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
          create: async (fields) => {
            const { profileJson } = deriveColumns(fields);
            const user = await users.insertBoth({ name: '', email: '' }, profileJson);
            return { ...user, ...fields };
          },
          update: (id, fields) => users.updateNew(id, deriveColumns(fields).profileJson),
        },
      };

    case 'new-first-crash': {
      // WRONG: new column first. A crash in between leaves the new value where v1 cannot see it.
      let creates = 0;
      return {
        reader,
        writer: {
          create: async (fields) => {
            const { old, profileJson } = deriveColumns(fields);
            const user = await users.insertBoth({ name: '', email: '' }, profileJson);
            if (++creates === CRASH_ON_CREATE) crash();
            await users.updateOld(user.id, old);
            return { ...user, ...fields };
          },
          update: async (id, fields) => {
            const { old, profileJson } = deriveColumns(fields);
            if (!(await users.updateNew(id, profileJson))) return false;
            return users.updateOld(id, old);
          },
        },
      };
    }

    case 'prefer-new-read':
      // WRONG: the seed's snippet. profile_data is stale after any v1 update.
      return {
        writer,
        reader: {
          async read(id) {
            const row = await users.findWithProfile(id);
            if (!row) return null;
            const profile = parseProfileData(row.profileData);
            if (profile) return { user: { id, ...fromProfileData(profile) }, readSource: 'new' };
            return { user: { id, name: row.name, email: row.email }, readSource: 'old' };
          },
        },
      };

    case 'early-read-shift':
      // WRONG: every read from profile_data, no fallback, before the backfill filled it: rows look missing.
      return {
        writer,
        reader: {
          async read(id) {
            const row = await users.findWithProfile(id);
            const profile = row && parseProfileData(row.profileData);
            return profile ? { user: { id, ...fromProfileData(profile) }, readSource: 'new' } : null;
          },
        },
      };

    case 'cached-old-read': {
      // WRONG: an in-process cache of reads. Another instance's (or version's) write never invalidates it.
      const cache = new Map<number, { user: User; readSource: 'old' }>();
      return {
        writer,
        reader: {
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
