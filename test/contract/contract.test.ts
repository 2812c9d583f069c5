// Rollout step "contract" (the checklist's "Decommission the old column ... after confirming no application reads
// from it"), with real processes: db:contract refuses while a v1 instance is alive, and after it stopped until a
// dual-mode verify that started later is on record; then it drops name and email. v1 then refuses to start with
// one line; v2 in new-only serves every read and write without the old columns; and `db:migrate:down` re-adds
// them filled from profile_data, new-only rows included: even contract can be undone.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { refuseDualWriteWithoutOldColumns } from '../../app-v2/schema-check.ts';
import { readFlagSet, writeFlags } from '../../shared/flags/store.ts';
import { tableColumns } from '../../shared/migrations/columns.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { verify, walkTo } from '../rollout/walk.ts';

const targets = await databaseTargets();

describe.each(targets)('contract on $name', (target) => {
  let database: TestDatabase | undefined;
  let v2: InProcessApp | undefined;
  afterEach(async () => {
    await v2?.close();
    await database?.drop();
    database = v2 = undefined;
  });

  it.skipIf(target.skip)('When a v1 instance is alive, then contract refuses; after it stopped and a dual verify passed, contract drops the old columns, v1 refuses to start, v2 serves new-only, and migrate:down restores the columns', async () => {
    database = await target.create();
    const { db, url } = database;
    const seeded = await seedV1Users(db, 200);
    await walkTo(db, 'new-only');
    const v1Id = unique('v1');
    // A v1 without the stage guard (a build from before it): a guarded v1 refuses new-only at start
    // (test/fences/stage-guard.test.ts), so the contract gate is the defence left against an unguarded one.
    const registry = instanceRegistry(db);
    const v1Row = await registry.register({ instanceId: v1Id, appVersion: 'v1', address: '127.0.0.1:1', pid: 1, heartbeatMs: 60_000 }, (await readFlagSet(db))!.version);
    const contract = () => runScript('cli/db-contract.ts', [], { DATABASE_URL: url });

    const whileV1Alive = await contract();
    await registry.markStopped(v1Row);
    const beforeVerify = await contract();
    await verify(db, 'dual');
    const contracted = await contract();
    const columnsAfter = await tableColumns(db, 'users');
    const [v1Start, served] = await Promise.all([
      runScript('app-v1/server.ts', [], { DATABASE_URL: url, PORT: '0' }),
      (async () => {
        v2 = await inProcessApp('v2', db);
        const created = { name: unique('after contract'), email: `${unique('c')}@example.test` };
        const id = (await request(v2.app).post('/users').send(created).expect(201)).body.id as number;
        const updated = { name: unique('renamed after contract'), email: `${unique('u')}@example.test` };
        await request(v2.app).put(`/users/${seeded.ids[0]}`).send(updated).expect(200);
        const readCreated = await request(v2.app).get(`/users/${id}`).expect(200);
        const readUpdated = await request(v2.app).get(`/users/${seeded.ids[0]}`).expect(200);
        return { id, created, updated, readCreated, readUpdated };
      })(),
    ]);
    const v2StartInNewOnly = await refuseDualWriteWithoutOldColumns(db);
    await writeFlags(db, { 'write-mode': 'dual' }, 'test: write-mode forced back to dual behind the gate');
    const v2StartInDual = await refuseDualWriteWithoutOldColumns(db);
    await writeFlags(db, { 'write-mode': 'new-only' }, 'test');
    const storedAfterContract = await db.select<{ id: number | string; profile_data: unknown }>('SELECT * FROM users WHERE id = $1', [served.id]);
    const down = await runScript('cli/db-migrate.ts', ['down'], { DATABASE_URL: url });

    expect(whileV1Alive.code).toBe(1);
    expect(whileV1Alive.lines).toEqual([expect.stringMatching(new RegExp(`^db:contract: refused: 1 v1 instance alive: ${v1Id} `))]);
    expect(beforeVerify.code).toBe(1);
    expect(beforeVerify.lines).toEqual([expect.stringMatching(/^db:contract: refused: no clean dual-mode verify on record since the last v1 stopped \(.*\): npm run verify -- --mode dual$/)]);
    expect(contracted.code, contracted.stderr).toBe(0);
    expect(contracted.stdout).toContain('applied 099-contract');
    // What stays: the key, the new column, the timestamps and, on MySQL/MariaDB, 006-lookup-index's generated lookup column.
    const kept = ['created_at', 'id', 'profile_data', ...(db.dialect.name === 'sqlite' ? [] : ['profile_data_email']), 'updated_at'];
    expect(columnsAfter.sort()).toEqual(kept);
    expect(v1Start.code).toBe(1);
    expect(v1Start.lines).toEqual(['v1 cannot start: the schema was contracted (099-contract dropped users.name and users.email); run v2, or npm run db:migrate:down to restore the old columns']);
    expect(v2StartInNewOnly).toBeNull();
    expect(v2StartInDual).toBe('v2 cannot start: the schema was contracted (no users.name/email) but write-mode is dual; npm run db:migrate:down restores the columns');
    expect(served.readCreated.headers['x-read-source']).toBe('new');
    expect(served.readCreated.body).toEqual({ id: served.id, ...served.created });
    expect(served.readUpdated.body).toEqual({ id: seeded.ids[0], ...served.updated });
    expect(Object.keys(storedAfterContract[0]!).sort()).toEqual(kept);
    expect(storedProfile(storedAfterContract[0]!.profile_data)).toEqual(served.created);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('reverted 099-contract');
    expect(await storedUser(db, served.id)).toMatchObject(served.created);
    expect(await storedUser(db, seeded.ids[0]!)).toMatchObject(served.updated);
    const rows = await db.select<{ id: number | string; name: string; email: string; profile_data: unknown }>('SELECT id, name, email, profile_data FROM users');
    for (const row of rows) expect({ name: row.name, email: row.email }, `row ${row.id}`).toEqual(storedProfile(row.profile_data));
    expect(rows).toHaveLength(seeded.ids.length + 1);
  }, 90_000);
});
