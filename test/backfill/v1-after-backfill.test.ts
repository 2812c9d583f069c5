// A late v1 write: a v1 instance updates rows after the backfill passed them, leaving profile_data
// stale. verify must see it (exit 1, naming the rows and fields), a backfill re-run must repair it, and verify
// must then pass. The updates here change only letter case or an accent: on MySQL the columns are switched to
// the server's default-style collation (utf8mb4_general_ci), under which 'alice' = 'Alice' and 'Zoe' = 'Zoë',
// so any comparison through the collation would call these rows in sync. Only a byte-exact one finds them.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users, usersById } from './seed.ts';

const targets = await databaseTargets();

describe.each(targets)('v1 writes after the backfill on $name', (target) => {
  let database: TestDatabase | undefined;
  let v1: InProcessApp | undefined;
  afterEach(async () => {
    await v1?.close();
    await database?.drop();
    database = v1 = undefined;
  });

  it.skipIf(target.skip)('When v1 changes only the case or an accent of rows the backfill passed, then verify exits 1 naming them, backfill repairs them and verify exits 0', async () => {
    database = await target.create();
    const { db, url } = database;
    if (db.dialect.name !== 'sqlite') {
      await db.run('ALTER TABLE users MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL, MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL');
    }
    v1 = await inProcessApp('v1', db);
    const tag = unique('case');
    const create = async (name: string) => (await request(v1!.app).post('/users').send({ name, email: `${tag}.${name.replace(/\W/g, '')}@example.test` }).expect(201)).body as { id: number; email: string };
    const alice = await create(`alice ${tag}`);
    const zoe = await create(`Zoe ${tag}`);
    const untouched = await create(`Bob ${tag}`);
    await seedV1Users(db, 200);
    await runBackfill(db, { direction: 'forward' }, { controls: fixedControls(), progress: silentProgress() });
    expect((await runVerify(db, { mode: 'dual', owner: 'test' })).drift).toBe(0);

    await request(v1.app).put(`/users/${alice.id}`).send({ name: `Alice ${tag}`, email: alice.email }).expect(200);
    await request(v1.app).put(`/users/${zoe.id}`).send({ name: `Zoë ${tag}`, email: zoe.email.toUpperCase() }).expect(200);
    if (db.dialect.name !== 'sqlite') {
      // What a collation-based check would conclude: both rows still "equal" to their profile_data.
      const [naive] = await db.select<{ n: number | string }>("SELECT COUNT(*) AS n FROM users WHERE id IN ($1, $2) AND name = JSON_VALUE(profile_data, '$.name') COLLATE utf8mb4_general_ci AND email = JSON_VALUE(profile_data, '$.email') COLLATE utf8mb4_general_ci", [alice.id, zoe.id]);
      expect(Number(naive!.n)).toBe(2);
    }
    const before = await runScript('cli/verify.ts', [], { DATABASE_URL: url });
    const repair = await runScript('cli/backfill.ts', [], { DATABASE_URL: url });
    const after = await runScript('cli/verify.ts', [], { DATABASE_URL: url });

    expect(before.code).toBe(1);
    expect(before.stdout).toContain('drift: 2 rows (missing 0, invalid 0, different 2)');
    expect(before.stdout).toContain(`id ${alice.id}: different (name)`);
    expect(before.stdout).toContain(`id ${zoe.id}: different (name, email)`);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/ 2 rows changed in \d+ batch/);
    expect(after.code, after.stdout).toBe(0);
    const rows = await usersById(db);
    expect(rows.get(alice.id)!.profile).toEqual({ name: `Alice ${tag}`, email: alice.email });
    expect(rows.get(zoe.id)!.profile).toEqual({ name: `Zoë ${tag}`, email: zoe.email.toUpperCase() });
    expect(rows.get(untouched.id)!.profile).toEqual({ name: `Bob ${tag}`, email: untouched.email });
  }, 60_000);
});
