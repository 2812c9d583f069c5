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
// | patch-new-only    | a PATCH merges into profile_data alone (a JSON_SET)         | the patched field stale, then lost  |
// | upsert-repair     | repairs a missing profile_data later, with an upsert        | a deleted row found again (lost)    |
// | lookup-new-early  | lookups through profile_data's index before stage live      | rows v1 changed missed (stale)      |
// | one-way-trigger   | nothing: SYNC=trigger's install creates "up" only (shared/sync/triggers.ts) | stale reads via v1 in new-only |
import type { Logger } from 'pino';
import type { AntiPattern } from '../shared/config.ts';
import type { Database } from '../shared/db/connection.ts';
import { readYourWrites } from '../shared/db/replica/read-your-writes.ts';
import type { ReplicaReads } from '../shared/db/replica/read-your-writes.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import { mapping } from '../shared/schema-mapping.ts';
import type { DualReader } from './dual-read.ts';
import { deriveColumns } from './dual-write.ts';
import { lookupThroughIndex } from './lookup.ts';
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
/** upsert-repair's queue: a repair runs this long after the read that found profile_data missing. */
const REPAIR_QUEUE_MS = 1000;

export function withAntiPattern(
  antiPattern: AntiPattern | undefined,
  { writer, reader, users, db, logger, crash }: { writer: DualWriter; reader: DualReader; users: UsersRepository; db: Database; logger: Logger; crash: () => never },
): { writer: DualWriter; reader: DualReader } {
  switch (antiPattern) {
    case undefined:
    case 'replica-reads': // wrong in where reads go, not in what they do: naiveReplicaReads below
    case 'one-way-trigger': // wrong in the database's sync install (shared/sync/triggers.ts); loadConfig refuses it for an instance
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

    case 'patch-new-only':
      // WRONG: a PATCH as if the new column were already the truth: merged into profile_data alone (what a
      // `SET profile_data = JSON_SET(profile_data, '$.email', ?)` does), its old column left as it was. v1, and v2's
      // dual-read, read the old columns: the patch is invisible to them, and to everyone once contract drops the
      // JSON's older twin. A row whose profile_data is missing gets nothing at all (JSON_SET of NULL is NULL).
      return {
        reader,
        writer: {
          ...writer,
          async patch(id, patch) {
            const row = await users.findWithProfile(id);
            if (!row) return null;
            const current = mapping.readNew(row.profileData);
            if (!current) return row.fields && { ...row.fields, ...(patch as Record<string, string>) };
            return users.patchNewOnly(id, patch);
          },
        },
      };

    case 'upsert-repair':
      // WRONG: the repair of a missing profile_data is queued (to keep it off the read's path) and written later
      // as an upsert of the values the read saw: INSERT ... ON DUPLICATE KEY UPDATE / ON CONFLICT DO UPDATE. If the
      // row was deleted in between, the upsert inserts it again: a deleted row comes back. (Repair with an UPDATE
      // of the row's own current columns, as shared/db/users-repository.ts does: a deleted row matches nothing.)
      return {
        writer,
        reader: {
          ...reader,
          async read(id, reads) {
            const found = await reader.read(id, reads);
            const row = found && (await users.findWithProfile(id));
            if (row?.fields && mapping.readNew(row.profileData) === null) {
              const fields = row.fields;
              setTimeout(() => void upsertBoth(db, id, fields).catch(() => {}), REPAIR_QUEUE_MS);
            }
            return found;
          },
        },
      };

    case 'lookup-new-early':
      // WRONG: lookups through the index over profile_data before stage live ("the index is there, and it is
      // faster"). v1 still writes the old columns alone, so a row v1 changed keeps its older value in profile_data:
      // the index misses it by its new value and finds it, with stale fields, by the one v1 replaced. (Until live
      // the old columns are the truth, for a set as for one row: app-v2/lookup.ts.)
      return { writer, reader: { ...reader, lookup: (value, limit, reads) => lookupThroughIndex({ users, logger }, value, limit, reads) } };

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

/** upsert-repair's write: the row with these old columns and profile_data from them, inserted if it is gone. */
async function upsertBoth(db: Database, id: Key, fields: Readonly<Record<string, string>>): Promise<void> {
  const columns = [mapping.keyColumn, ...mapping.oldColumnNames, mapping.newColumn];
  const values = [id, ...mapping.oldColumnNames.map((column) => fields[column]!), mapping.newJson(fields)];
  const params = values.map((_, i) => `$${i + 1}`).join(', ');
  const assign = [...mapping.oldColumnNames, mapping.newColumn];
  const onConflict =
    db.dialect.name === 'sqlite'
      ? `ON CONFLICT(${mapping.keyColumn}) DO UPDATE SET ${assign.map((c) => `${c} = excluded.${c}`).join(', ')}`
      : `ON DUPLICATE KEY UPDATE ${assign.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  await db.run(`INSERT INTO ${mapping.table} (${columns.join(', ')}, created_at, updated_at) VALUES (${params}, ${db.dialect.now}, ${db.dialect.now}) ${onConflict}`, values);
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
