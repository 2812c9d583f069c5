// The admin API (not for the public balancer): read and set flags. Disabled (404) unless ADMIN_TOKEN is set;
// the bearer token is compared in constant time. A flag change passes the rollout's gate, which the app hands in
// (writeFlags: shared/rollout/flag-gate.ts): the shell both versions run does not import operator tooling.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Database } from '../db/connection.ts';
import { flagDefinitions, flagNameOf, parseFlagValue } from '../flags/registry.ts';
import type { FlagName, FlagValues } from '../flags/registry.ts';
import { readFlagSet } from '../flags/store.ts';
import { HttpError } from './errors.ts';

/** Writes flag changes after the rollout's gate judged them (gatedFlagWrite), or says why not. */
export type FlagWriter = (db: Database, changes: Partial<FlagValues>, actor: string) => Promise<{ ok: true; version: number } | { ok: false; refusal: string }>;

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireAdminToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(new HttpError(401, 'unauthorized', 'authorization: Bearer token required'));
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) return next(new HttpError(403, 'forbidden', 'authorization: wrong token'));
    next();
  };
}

export function adminRouter({ db, token, instanceId, writeFlags }: { db: Database; token: string; instanceId: string; writeFlags: FlagWriter }): Router {
  const router = Router();
  router.use(requireAdminToken(token));
  router.get('/flags', async (_req, res) => {
    const set = await readFlagSet(db);
    res.json({ version: set?.version ?? null, flags: set?.values ?? null, definitions: flagDefinitions });
  });
  router.put('/flags', async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) {
      throw new HttpError(400, 'invalid_input', 'body: must be a JSON object of flag names to values');
    }
    const changes: Partial<Record<FlagName, unknown>> = {};
    for (const [name, raw] of Object.entries(body)) {
      const parsed = parseFlagValue(name, raw);
      if (!parsed.ok) throw new HttpError(400, 'invalid_flag', parsed.error, [{ field: name, message: parsed.error }]);
      changes[flagNameOf(name)!] = parsed.value;
    }
    const written = await writeFlags(db, changes as Partial<FlagValues>, `admin-api@${instanceId}`);
    if (!written.ok) throw new HttpError(409, 'rollout_gate', written.refusal);
    res.json({ version: written.version, changed: changes });
  });
  return router;
}
