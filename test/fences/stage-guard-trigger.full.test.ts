// The stage guard under SYNC=trigger, as a real v1 process (make test-full): with the mode recorded, v1 serves in
// live and keeps serving when the flags move to new-only (its range is base..new-only), its write reaches
// profile_data through the up trigger, and new-only's write reaches the old columns it reads. The table itself
// is tested as pure functions in test/rollout/sync-mode-gates.test.ts.
import { describe, expect, it } from 'vitest';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { applySyncMode } from '../../shared/rollout/sync.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { stageLabel, step, walkTo } from '../rollout/walk.ts';
import { sqliteTarget, unique } from '../support/databases.ts';
import { startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InstanceProcess } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

describe('stage guard under SYNC=trigger', () => {
  it('When the mode is trigger and the rollout is live, then a v1 starts and serves, stays through new-only, and its writes and new-only\'s reach the other side', async () => {
    const database = await sqliteTarget().create();
    let v1: InstanceProcess | undefined;
    try {
      const { db, url } = database;
      await applySyncMode(db, 'trigger');
      const [id] = (await seedV1Users(db, 10)).ids;
      await walkTo(db, 'live');
      v1 = await startInstanceProcess('v1', { DATABASE_URL: url, INSTANCE_ID: unique('v1-trigger'), FLAG_POLL_MS: '50' });
      const name = unique('v1-in-live');
      const put = await fetch(`http://127.0.0.1:${v1.port}/users/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, email: `${name}@example.test` }) });
      const afterV1 = await storedUser(db, id!);

      // Completed means every alive instance, this v1 included, has loaded (and judged) the new-only flags; a v1
      // whose guard refused would have closed its port, and the read below would fail.
      const toNewOnly = await step(db, 'advance');
      const byNewOnly = { name: unique('new-only'), email: `${unique('n')}@example.test` };
      await usersRepository(db).updateNewOnly(id!, JSON.stringify(byNewOnly));
      const read = await waitFor(async () => {
        const body = (await (await fetch(`http://127.0.0.1:${v1!.port}/users/${id}`)).json()) as { name: string };
        return body.name === byNewOnly.name ? body : undefined;
      }, { what: 'v1 to read new-only\'s write' });

      expect(put.status).toBe(200);
      expect(storedProfile(afterV1!.profileRaw)).toEqual({ name, email: `${name}@example.test` });
      expect(toNewOnly).toMatchObject({ outcome: 'completed', to: { label: 'new-only' } });
      expect(await stageLabel(db)).toBe('new-only');
      expect(read).toEqual({ id, ...byNewOnly });
    } finally {
      await v1?.stop('SIGKILL');
      await database.drop();
    }
  }, 120_000);
});
