// Dual-write (checklist: "Deploy the new app version with dual-write logic"). Every v2 write sets the old
// columns AND profile_data, derived by one function from the same validated input, so they are identical by
// construction (the common recipe: "the values must be identical").
//
// DUAL_WRITE_STRATEGY:
// - single (default): one UPDATE sets both. No torn row is possible, no extra round trip, no extra lock time:
//   this is how the worry about doubled write load is answered; dual-write costs nothing measurable.
// - transaction: two statements in one transaction (BEGIN IMMEDIATE on SQLite). Atomic, but two round trips
//   while holding the row lock. Right when the new structure is another table, where one statement can't do it.
// - sequential: two statements, old columns first, no transaction, and never a torn row. The first sets the old
//   columns and clears profile_data in the same statement; the second rebuilds profile_data from the row's own
//   current old columns, inside the UPDATE (the schema mapping's SQL, as the backfill does). So profile_data is
//   always either NULL (missing: every read falls back to the old columns) or equal to them, whatever other
//   v2 writes run meanwhile (only a v1 write leaves it stale: drift, as with every strategy), and the last
//   statement to run leaves the row converged. A crash between them leaves the
//   old columns right and profile_data missing: exactly the common recipe's "the new column will be missing that record,
//   but you can fix that later with a backfill". Right only where no transaction spans both stores.
// - sequential-seed: the common recipe's code as written, kept as a demonstration: old columns, then profile_data from
//   the request's own value. Two concurrent PUTs to one user interleave (A old, B old, B new, A new) and leave
//   name from B with profile_data from A, with no crash at all; once reads trust profile_data (live) users see
//   the older write. The checker catches it under the hot-key workload; the live gate refuses while any alive
//   v2 runs it (shared/rollout/gates.ts).
import type { DualWriteStrategy } from '../shared/config.ts';
import type { Database } from '../shared/db/connection.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import { mapping } from '../shared/schema-mapping.ts';
import type { UserFields } from '../shared/schema-mapping.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { Key } from '../shared/mapping-contract.ts';

export interface DualWriter {
  create(fields: UserFields): Promise<User>;
  /** false when no user has this id. */
  update(id: Key, fields: UserFields): Promise<boolean>;
  /** A partial update: the whole value after it, or null when no user has this id. */
  patch(id: Key, patch: Partial<UserFields>): Promise<UserFields | null>;
  /** false when no user has this id. */
  remove(id: Key): Promise<boolean>;
}

/** The one place both representations come from: the validated input, and the mapping's old -> new of it. */
export function deriveColumns(fields: UserFields): { old: UserFields; profileJson: string } {
  return { old: fields, profileJson: mapping.newJson(fields) };
}

/** Called between the two statements of the two-statement strategies; FAULT_INJECT uses it to crash there. */
export type BetweenWrites = () => void;

export function dualWriteStrategy(
  strategy: DualWriteStrategy,
  { db, users, betweenWrites = () => {}, trustsNew = () => false }: { db: Database; users: UsersRepository; betweenWrites?: BetweenWrites; trustsNew?: () => boolean },
): DualWriter {
  // A create is one INSERT of both columns in every strategy: before it commits, nobody can see the row.
  const create = (fields: UserFields) => {
    const { old, profileJson } = deriveColumns(fields);
    return users.insertBoth(old, profileJson);
  };
  // A PATCH is one statement in every strategy (old columns and the whole new column, merged under a
  // compare-and-set: users-repository.ts); a DELETE removes both representations at once (they share the row).
  // A PATCH merges from the representation reads trust (the flag read-trust-new: users-repository.ts says why).
  const patchAndRemove = {
    patch: (id: Key, patch: Partial<UserFields>) => users.patchBoth(id, patch, { from: trustsNew() ? 'new' : 'old' }),
    remove: (id: Key) => users.deleteRow(id),
  };
  switch (strategy) {
    case 'single':
      return {
        create,
        ...patchAndRemove,
        update(id, fields) {
          const { old, profileJson } = deriveColumns(fields);
          return users.updateBoth(id, old, profileJson);
        },
      };
    case 'transaction':
      return {
        create,
        ...patchAndRemove,
        update(id, fields) {
          const { old, profileJson } = deriveColumns(fields);
          return db.transaction(async (tx) => {
            if (!(await users.updateOld(id, old, tx))) return false;
            betweenWrites();
            return users.updateNew(id, profileJson, tx);
          });
        },
      };
    case 'sequential':
      return {
        create,
        ...patchAndRemove,
        async update(id, fields) {
          // Old columns first, profile_data cleared with them: if we die after this line, v1 and v2 both read the
          // new value (v2 falls back on the missing profile_data) and the backfill fills it.
          if (!(await users.updateOldClearingNew(id, deriveColumns(fields).old))) return false;
          betweenWrites();
          // From the row's own columns, not from `fields`: a concurrent PUT may have written them since.
          await users.repairMissingProfile(id);
          return true;
        },
      };
    case 'sequential-seed':
      return {
        create,
        ...patchAndRemove,
        async update(id, fields) {
          const { old, profileJson } = deriveColumns(fields);
          // WRONG under concurrency (the common recipe's code): a PUT that ran both statements in between leaves its own
          // old columns with this request's profile_data.
          if (!(await users.updateOld(id, old))) return false;
          betweenWrites();
          await users.updateNew(id, profileJson);
          return true;
        },
      };
  }
}

/** FAULT_INJECT=crash-between-writes: a real crash (SIGKILL, no cleanup) between the two statements. */
export function crashBetweenWrites(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: the process was killed');
}

/** Times each write's dual-write statements by strategy (the common recipe: "monitor your database metrics"). */
export function timedDualWriter(writer: DualWriter, strategy: DualWriteStrategy, metrics: Metrics): DualWriter {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.dualWriteSeconds.startTimer({ strategy, operation });
      try {
        return await fn(...args);
      } finally {
        end();
      }
    };
  return { create: timed('create', writer.create), update: timed('update', writer.update), patch: timed('patch', writer.patch), remove: timed('delete', writer.remove) };
}
