// make workshop's sandbox, started as a user starts it (short: 500 users): it prints the DATABASE_URL and a
// dashboard URL with a generated admin token on 127.0.0.1, seeds the users, serves load through the balancer
// with no scripted steps and no verdict, a write by hand (SQL, curl) is marked external, and Ctrl-C stops
// everything it started. The controls, clicked in a browser, are controls.browser.full.test.ts. In make test-full: three instances start (about 30 s on a busy machine).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connection.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { ROOT, startSandbox } from './support.ts';
import type { RunningSandbox } from './support.ts';

let sandbox: RunningSandbox | undefined;
afterAll(async () => {
  await sandbox?.stop();
});

describe('make workshop: the sandbox', () => {
  it('When it starts, then it prints both URLs, seeds the users, keeps the fleet serving load until Ctrl-C, and Ctrl-C stops it all', { timeout: 150_000 }, async () => {
    const resultsDir = path.join(path.resolve(ROOT, process.env.RESULTS_DIR || 'results'), 'workshop-test', `sandbox-${process.pid}`);
    sandbox = await startSandbox(resultsDir, { WORKSHOP_USERS: '500', WORKSHOP_LOAD_USERS: '50' });
    expect(sandbox.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(sandbox.token).toMatch(/^[0-9a-f]{32}$/);
    expect(sandbox.output()).toMatch(/backfill: +500 rows, --batch 200 --sleep-ms \d+ \(about a minute\)/);

    const db = await connectDatabase(sandbox.databaseUrl, { poolMax: 1 });
    try {
      const [seeded] = await db.select<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE id <= 500');
      expect(Number(seeded!.n)).toBe(500);
      // The load writes only the first 50 (WORKSHOP_LOAD_USERS): the others keep their seeded values.
      const [untouched] = await db.select<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE id > 50 AND id <= 500 AND name = 'seed' || id AND email = 'seed' || id || '@example.test'");
      expect(Number(untouched!.n)).toBe(450);
      const alive = (await instanceRegistry(db).list()).alive.map((i) => i.instanceId).sort();
      expect(alive).toEqual(['v1-a', 'v1-b', 'v2-a']);
      // The load runs: v2 dual-writes the users it touches (profile_data filled without any backfill).
      await expect
        .poll(async () => Number((await db.select<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE profile_data IS NOT NULL'))[0]!.n), { timeout: 30_000, interval: 250 })
        .toBeGreaterThan(0);
      // Writes by hand, as sandbox E has them: an UPDATE of the old columns of user 1, and a curl through the
      // balancer to user 2. A value is seen once the load reads it; when the load writes the user first, the value
      // is gone unseen (as an attendee's can be), so each is made again with a new value until one is seen.
      const balancer = /balancer: +(http:\/\/127\.0\.0\.1:\d+)/.exec(sandbox.output())![1]!;
      const seenWithin = async (pattern: RegExp, ms: number) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          if (pattern.test(sandbox!.output())) return true;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return false;
      };
      const byHand = async (userId: number, write: (name: string) => Promise<void>) => {
        for (let attempt = 1; attempt <= 6; attempt++) {
          const name = `by hand ${process.pid}-${userId}-${attempt}`;
          await write(name);
          if (await seenWithin(new RegExp(`external write seen @[\\d.]+s: a write by hand on user ${userId} \\(name "${name}"`), 10_000)) return attempt;
        }
        return null;
      };
      expect(await byHand(1, (name) => db.run('UPDATE users SET name = $1 WHERE id = 1', [name]))).not.toBeNull();
      expect(
        await byHand(2, async (name) => {
          const curl = await fetch(`${balancer}/users/2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, email: `hand-${process.pid}@example.test` }) });
          expect(curl.status).toBe(200);
        }),
      ).not.toBeNull();
    } finally {
      await db.close();
    }
    // The dashboard is read-only without the token.
    expect((await fetch(`${sandbox.origin}api/verify`, { method: 'POST' })).status).toBe(401);

    const { code, output } = await sandbox.stop();
    expect(output).not.toMatch(/PASSED|FAILED/);
    expect(output).toMatch(/interrupted \(SIGINT\): stopping 3 instances/);
    expect(output).toMatch(/workshop-summary\.json lists the 0 actions/);
    expect(output).not.toMatch(/anomaly found .* garbage user [12],/);
    const summary = JSON.parse(fs.readFileSync(path.join(sandbox.resultsDir, 'workshop-summary.json'), 'utf8')) as { externalWrites: { key: string }[] };
    expect(new Set(summary.externalWrites.map((e) => e.key))).toEqual(new Set(['1', '2']));
    expect(code).toBe(130);
  });
});
