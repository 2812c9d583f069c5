// The public user routes, identical for both versions: validate, call the version's service, answer.
// Handlers stay thin; what differs between v1 and v2 lives behind UserService.
import { Router } from 'express';
import type { User } from '../db/users-repository.ts';
import type { UserFields } from '../schema-mapping.ts';
import { parseUserId, parseUserInput } from '../validation.ts';
import { notFound } from './errors.ts';

/** Where v2 served a read from: the old columns, the verified new column, or the old columns after the new one failed verification. */
export type ReadSource = 'old' | 'new' | 'fallback';

export interface UserService {
  create(fields: UserFields): Promise<User>;
  /** null when no user has this id. */
  update(id: number, fields: UserFields): Promise<User | null>;
  get(id: number): Promise<{ user: User; readSource?: ReadSource } | null>;
}

export function userRoutes(service: UserService): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const user = await service.create(parseUserInput(req.body));
    res.status(201).location(`/users/${user.id}`).json(user);
  });
  router.put('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    const user = await service.update(id, parseUserInput(req.body));
    if (!user) throw notFound(`user ${id}`);
    res.json(user);
  });
  router.get('/:id', async (req, res) => {
    const id = parseUserId(req.params.id);
    const found = await service.get(id);
    if (found?.readSource) res.set('X-Read-Source', found.readSource);
    if (!found) throw notFound(`user ${id}`);
    res.json(found.user);
  });
  return router;
}
