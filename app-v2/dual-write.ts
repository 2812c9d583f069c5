// Dual-write (checklist: "Deploy the new app version with dual-write logic"). Every v2 write sets the old
// columns AND profile_data, derived by one function from the same validated input, so they are identical by
// construction (the seed: "the values must be identical").
//
// DUAL_WRITE_STRATEGY:
// - single (default): one UPDATE sets both. No torn row is possible, no extra round trip, no extra lock time:
//   this is how the seed's warning about doubled write load is answered; dual-write costs nothing measurable.
// - transaction: two statements in one transaction (BEGIN IMMEDIATE on SQLite). Atomic, but two round trips
//   while holding the row lock. Right when the new structure is another table, where one statement can't do it.
// - sequential: the seed's code, two statements, old columns first, no transaction. A crash between them
//   leaves the old columns right (v1 still sees correct data) and profile_data stale: drift that dual-read
//   tolerates and verify + backfill repair. Right only where no transaction spans both stores.
import type { DualWriteStrategy } from '../shared/config.ts';
import type { Database } from '../shared/db/connection.ts';
import type { User, UsersRepository } from '../shared/db/users-repository.ts';
import { toProfileData } from '../shared/schema-mapping.ts';
import type { UserFields } from '../shared/schema-mapping.ts';
import type { Metrics } from '../shared/metrics.ts';

export interface DualWriter {
  create(fields: UserFields): Promise<User>;
  /** false when no user has this id. */
  update(id: number, fields: UserFields): Promise<boolean>;
}

/** The one place both representations come from. */
export function deriveColumns(fields: UserFields): { old: UserFields; profileJson: string } {
  return { old: { name: fields.name, email: fields.email }, profileJson: JSON.stringify(toProfileData(fields)) };
}

/** Called between the two statements of the two-statement strategies; FAULT_INJECT uses it to crash there. */
export type BetweenWrites = () => void;

export function dualWriteStrategy(strategy: DualWriteStrategy, { db, users, betweenWrites = () => {} }: { db: Database; users: UsersRepository; betweenWrites?: BetweenWrites }): DualWriter {
  // A create is one INSERT of both columns in every strategy: before it commits, nobody can see the row.
  const create = (fields: UserFields) => {
    const { old, profileJson } = deriveColumns(fields);
    return users.insertBoth(old, profileJson);
  };
  switch (strategy) {
    case 'single':
      return {
        create,
        update(id, fields) {
          const { old, profileJson } = deriveColumns(fields);
          return users.updateBoth(id, old, profileJson);
        },
      };
    case 'transaction':
      return {
        create,
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
        async update(id, fields) {
          const { old, profileJson } = deriveColumns(fields);
          // Old columns first: if we die after this line, v1 already sees the new value.
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

/** Times each write's dual-write statements by strategy (the seed: "monitor your database metrics"). */
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
  return { create: timed('create', writer.create), update: timed('update', writer.update) };
}
