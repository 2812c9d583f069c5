// The request pool as a version's app sees it, fenced by the instance's lease (docs/fences.md):
// - Every statement checks the lease before it is sent, not only the request on arrival: a request that passed
//   its check just before the process froze (SIGSTOP) or the lease lapsed does not write after it resumes, when
//   a gate may have passed without it. It fails with 503 lease_lost instead. (A transaction is checked when it
//   begins; once begun, it commits or rolls back whole.)
// - A statement that finds the database unreachable (connection refused, reset, lost: the instance was cut off
//   from the primary) reports it at once, so the instance can give its lease up now rather than keep taking
//   requests for the rest of the lease window, each of which would fail the same way.
// The control path (heartbeats, flag polls) has its own pool and is not fenced: it is what renews the lease.
import type { Database } from '../db/connection.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { HttpError } from '../http/errors.ts';

const STATEMENTS = new Set<PropertyKey>(['select', 'update', 'insert', 'run', 'transaction']);

export function fencedDatabase(db: Database, { leaseHeld, onUnreachable = () => {} }: { leaseHeld: () => boolean; onUnreachable?: () => void }): Database {
  return new Proxy(db, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (!STATEMENTS.has(property) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (!leaseHeld()) throw new HttpError(503, 'lease_lost', 'this instance lost its registry lease while serving the request: nothing was written after that');
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          if (isDatabaseUnavailable(err)) onUnreachable();
          throw err;
        }
      };
    },
  });
}
