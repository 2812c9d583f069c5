// Rollout step "verify": what counts as drift, by write mode, and that the SQL that counts it agrees with the
// app's own reading of a row (parseProfileData + differingFields, what v2's dual-read uses). The tricky rows
// are the ones a looser check gets wrong: a name differing only in case, accent or a trailing space (equal under
// MySQL's collations, even utf8mb4_bin ignores the trailing space), a field that is a number, JSON that is not
// an object; and rows that are in sync though their text differs (key order, spacing, extra keys, quotes,
// backslashes, emoji, SQL-looking names).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { verifyResults } from '../../shared/verify/results.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { runScript } from '../support/scripts.ts';

const targets = await databaseTargets();

type Case = { label: string; name: string; email: string; profile: string | null; expect: 'clean' | 'missing' | 'invalid' | 'different'; fields?: string[]; sqliteOnly?: boolean };

const tag = unique('drift');
const cases: Case[] = [
  { label: 'in sync, written by v2', name: `Ann ${tag}`, email: `ann.${tag}@example.test`, profile: JSON.stringify({ name: `Ann ${tag}`, email: `ann.${tag}@example.test` }), expect: 'clean' },
  { label: 'in sync, keys reversed and spaced', name: `Ben ${tag}`, email: `ben.${tag}@example.test`, profile: `{ "email" : "ben.${tag}@example.test", "name" : "Ben ${tag}" }`, expect: 'clean' },
  { label: 'in sync, an extra key', name: `Cy ${tag}`, email: `cy.${tag}@example.test`, profile: JSON.stringify({ name: `Cy ${tag}`, email: `cy.${tag}@example.test`, nickname: 'c' }), expect: 'clean' },
  { label: 'in sync, quotes, backslashes, emoji', name: `O'Brien "Zoë" \\ 🦄 ${tag}`, email: `ob.${tag}@example.test`, profile: null, expect: 'clean' },
  { label: 'in sync, SQL-looking', name: `x'); DROP TABLE users;-- ${tag}`, email: `sql.${tag}@example.test`, profile: null, expect: 'clean' },
  { label: 'missing', name: `Dee ${tag}`, email: `dee.${tag}@example.test`, profile: 'NULL', expect: 'missing' },
  { label: 'a field that is a number', name: `5`, email: `num.${tag}@example.test`, profile: JSON.stringify({ name: 5, email: `num.${tag}@example.test` }), expect: 'invalid' },
  { label: 'JSON that is not an object', name: `Eve ${tag}`, email: `eve.${tag}@example.test`, profile: '["Eve"]', expect: 'invalid' },
  { label: 'not JSON at all', name: `Fay ${tag}`, email: `fay.${tag}@example.test`, profile: '{name: Fay', expect: 'invalid', sqliteOnly: true },
  { label: 'case only', name: `GUS ${tag}`, email: `gus.${tag}@example.test`, profile: JSON.stringify({ name: `Gus ${tag}`, email: `gus.${tag}@example.test` }), expect: 'different', fields: ['name'] },
  { label: 'accent only', name: `Zoë ${tag}`, email: `zoe.${tag}@example.test`, profile: JSON.stringify({ name: `Zoe ${tag}`, email: `zoe.${tag}@example.test` }), expect: 'different', fields: ['name'] },
  { label: 'a trailing space', name: `Hal ${tag}`, email: `hal.${tag}@example.test `, profile: JSON.stringify({ name: `Hal ${tag}`, email: `hal.${tag}@example.test` }), expect: 'different', fields: ['email'] },
];

describe.each(targets)('verify on $name', (target) => {
  let database: TestDatabase;
  const ids = new Map<string, number>();

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    const { db } = database;
    for (const c of cases.filter((c) => !c.sqliteOnly || db.dialect.name === 'sqlite')) {
      ids.set(c.label, await db.insert(`INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, $2, ${db.dialect.now}, ${db.dialect.now})`, [c.name, c.email]));
    }
    await runBackfill(db, { direction: 'forward' }, { controls: fixedControls(), progress: silentProgress() });
    for (const c of cases) {
      const id = ids.get(c.label);
      if (id !== undefined && c.profile !== null) await db.update('UPDATE users SET profile_data = $1 WHERE id = $2', [c.profile === 'NULL' ? null : c.profile, id]);
    }
  });
  afterAll(async () => {
    await database?.drop();
  });

  const expected = () => [...ids].map(([label, id]) => ({ id, ...cases.find((c) => c.label === label)! }));

  it.skipIf(target.skip)('When rows hold every kind of drift, then dual-mode verify counts each kind, samples them with the differing fields, and records the result', async () => {
    const result = await runVerify(database.db, { mode: 'dual', sampleSize: 100, owner: 'test', chunk: 3 });

    const drifted = expected().filter((c) => c.expect !== 'clean');
    expect(result).toMatchObject({
      mode: 'dual',
      rowsChecked: ids.size,
      missing: drifted.filter((c) => c.expect === 'missing').length,
      invalid: drifted.filter((c) => c.expect === 'invalid').length,
      different: drifted.filter((c) => c.expect === 'different').length,
      drift: drifted.length,
    });
    expect(result.sample).toEqual(drifted.map((c) => ({ id: c.id, reason: c.expect, fields: c.fields ?? [] })));
    expect(await verifyResults(database.db).byId(result.id)).toEqual(result);
    expect(result.finishedAt).not.toBeNull();
  });

  it.skipIf(target.skip)("When the SQL's verdict on each row is set beside the app's parser and comparison, then they agree on every row", async () => {
    const rows = await database.db.select<{ id: number | string; name: string; email: string; profile_data: unknown }>('SELECT id, name, email, profile_data FROM users');
    const { sample } = await runVerify(database.db, { mode: 'dual', sampleSize: 100, owner: 'test' });

    for (const row of rows) {
      const profile = mapping.readNew(row.profile_data);
      const byCode = row.profile_data === null ? 'missing' : profile === null ? 'invalid' : mapping.differingFields(profile, mapping.fieldsOf(row)!).length > 0 ? 'different' : 'clean';
      expect(sample.find((s) => s.id === Number(row.id))?.reason ?? 'clean', `row ${JSON.stringify(row)}`).toBe(byCode);
    }
  });

  it.skipIf(target.skip)('When a mapping has no SQL form, then verify judges the same rows in code and counts and samples exactly what the SQL does, in both modes', async () => {
    // The same mapping with its SQL form taken away: verify then reads each chunk's rows and judges them with drift-code.ts.
    const codeOnly = { ...mapping, sql: null };
    for (const mode of ['dual', 'new-only'] as const) {
      const [bySql, byCode] = [await runVerify(database.db, { mode, sampleSize: 100, owner: 'test', chunk: 3 }), await runVerify(database.db, { mode, sampleSize: 100, owner: 'test', chunk: 3, mapping: codeOnly })];

      const { id: _sqlId, startedAt: _sqlStart, finishedAt: _sqlEnd, ...sqlResult } = bySql;
      const { id: _codeId, startedAt: _codeStart, finishedAt: _codeEnd, ...codeResult } = byCode;
      expect(codeResult, mode).toEqual(sqlResult);
    }
  });

  it.skipIf(target.skip)('When verify runs in new-only mode, then only missing and invalid profile_data count (the old columns are no longer written)', async () => {
    const result = await runVerify(database.db, { mode: 'new-only', owner: 'test' });

    const drifted = expected().filter((c) => c.expect === 'missing' || c.expect === 'invalid');
    expect(result).toMatchObject({ mode: 'new-only', different: 0, drift: drifted.length });
  });

  it.skipIf(target.skip)('When `verify --report-only` finds drift, then it prints the totals and exits 0; without it, 1', async () => {
    const [reportOnly, strict] = await Promise.all([
      runScript('cli/verify.ts', ['--report-only'], { DATABASE_URL: database.url }),
      runScript('cli/verify.ts', ['--mode', 'new-only'], { DATABASE_URL: database.url }),
    ]);

    expect(reportOnly.code).toBe(0);
    expect(reportOnly.stdout).toMatch(/drift: \d+ rows \(missing 1, invalid \d, different 3\)/);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('verdict: DRIFT');
  });
});
