// The public user routes, identical for both versions: validate, call the version's service, answer.
// Handlers stay thin; what differs between v1 and v2 lives behind UserService.
import { Router } from 'express';
import type { Executor } from '../db/connection.ts';
import { CONSISTENCY_TOKEN_HEADER, READ_FROM_HEADER } from './headers.ts';
import type { ReplicaReads } from '../db/replica/read-your-writes.ts';
import type { User } from '../db/users-repository.ts';
import { mapping } from '../schema-mapping.ts';
import type { UserFields } from '../schema-mapping.ts';
import { parseLookupQuery, parsePatchInput, parseUserId, parseUserInput } from '../validation.ts';
import { HttpError, notFound } from './errors.ts';
import type { Key } from '../mapping-contract.ts';

/** Where v2 served a read from: the old columns, the verified new column, or the old columns after the new one failed verification. */
export type ReadSource = 'old' | 'new' | 'fallback';

/** The answer's body: the key and the old-column view, whichever columns hold it (the same for v1 and v2). */
export function userBody(user: User): Record<string, unknown> {
  return { id: user.id, ...user.fields };
}

/** The most rows a lookup answers; with more, the answer says `"truncated": true`. */
export const LOOKUP_LIMIT = 100;

/** A lookup's rows (at most LOOKUP_LIMIT + 1, in key order: one more says there are more) and where v2 read them. */
export interface LookupResult {
  users: User[];
  readSource?: ReadSource;
}

export interface UserService {
  create(fields: UserFields): Promise<User>;
  /** null when no user has this id. */
  update(id: Key, fields: UserFields): Promise<User | null>;
  /** A partial update (PATCH): the whole value after it, or null when no user has this id. */
  patch(id: Key, patch: Partial<UserFields>): Promise<User | null>;
  /** false when no user has this id. */
  delete(id: Key): Promise<boolean>;
  /** `reads`: the server the read must use (a replica or the primary); the primary when omitted. */
  get(id: Key, reads?: Executor): Promise<{ user: User; readSource?: ReadSource } | null>;
  /** The rows whose lookup value (the mapping's `lookup`) is exactly `value`, at most `limit` + 1, in key order. */
  lookup(value: string, limit: number, reads?: Executor): Promise<LookupResult>;
}

/**
 * With a replica (`replicaReads`), writes answer with a consistency token and reads honour the one they carry
 * (shared/db/replica/read-your-writes.ts): the same for v1 and v2. Without one, nothing here runs.
 */
export function userRoutes(service: UserService, replicaReads?: ReplicaReads): Router {
  const router = Router();
  const tokenOf = (header: string | undefined): string | undefined => {
    if (header === undefined || header === '') return undefined;
    if (!replicaReads!.isToken(header)) {
      throw new HttpError(400, 'invalid_consistency_token', `${CONSISTENCY_TOKEN_HEADER}: not a ${replicaReads!.replication.name} GTID position`, [
        { field: CONSISTENCY_TOKEN_HEADER, message: 'must be a token this service returned' },
      ]);
    }
    return header;
  };
  const routedRead = async <T>(header: string | undefined, res: { set(name: string, value: string): unknown }, read: (reads: Executor) => Promise<T>) => {
    const route = await replicaReads!.route(tokenOf(header));
    const found = await read(route.reads);
    res.set(READ_FROM_HEADER, route.from);
    const token = await route.tokenAfterRead();
    if (token) res.set(CONSISTENCY_TOKEN_HEADER, token);
    return found;
  };
  router.post('/', async (req, res) => {
    const user = await service.create(parseUserInput(req.body));
    if (replicaReads) res.set(CONSISTENCY_TOKEN_HEADER, await replicaReads.tokenAfterWrite());
    res.status(201).location(`${mapping.route}/${user.id}`).json(userBody(user));
  });
  router.put('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    const user = await service.update(id, parseUserInput(req.body));
    if (!user) throw notFound(`${mapping.entity} ${id}`);
    if (replicaReads) res.set(CONSISTENCY_TOKEN_HEADER, await replicaReads.tokenAfterWrite());
    res.json(userBody(user));
  });
  router.patch('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    const user = await service.patch(id, parsePatchInput(req.body));
    if (!user) throw notFound(`${mapping.entity} ${id}`);
    if (replicaReads) res.set(CONSISTENCY_TOKEN_HEADER, await replicaReads.tokenAfterWrite());
    res.json(userBody(user));
  });
  router.delete('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    if (!(await service.delete(id))) throw notFound(`${mapping.entity} ${id}`);
    if (replicaReads) res.set(CONSISTENCY_TOKEN_HEADER, await replicaReads.tokenAfterWrite());
    res.status(204).end();
  });
  router.get('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    const found = replicaReads ? await routedRead(req.get(CONSISTENCY_TOKEN_HEADER), res, (reads) => service.get(id, reads)) : await service.get(id);
    if (found?.readSource) res.set('X-Read-Source', found.readSource);
    if (!found) throw notFound(`${mapping.entity} ${id}`);
    res.json(userBody(found.user));
  });
  if (mapping.lookup) {
    // GET <route>?<param>=<value>: a read of a set, by the field that moves into the new column.
    router.get('/', async (req, res) => {
      const value = parseLookupQuery(req.query as Record<string, unknown>);
      const found = replicaReads
        ? await routedRead(req.get(CONSISTENCY_TOKEN_HEADER), res, (reads) => service.lookup(value, LOOKUP_LIMIT, reads))
        : await service.lookup(value, LOOKUP_LIMIT);
      if (found.readSource) res.set('X-Read-Source', found.readSource);
      res.json({ items: found.users.slice(0, LOOKUP_LIMIT).map(userBody), truncated: found.users.length > LOOKUP_LIMIT });
    });
  }
  return router;
}
