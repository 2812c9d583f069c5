// npm run flags (cli/flags.ts): a bad `set` (unknown flag, value out of range, not a boolean) exits non-zero
// with one line naming the flag and changes nothing, not even the flags of the same command that were valid.
// A good `set` and its propagation to running instances: test/shared/flags/provider.test.ts. The dual-read flag's
// former name, shadow-compare, is still accepted: on the command line and in a row older tooling stored.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { writeFlags } from '../../shared/flags/store.ts';
import { storedFlagSet } from '../support/flags.ts';
import { runScript } from '../support/scripts.ts';

const targets = await databaseTargets();

const refusals = [
  { label: 'an unknown flag', args: ['no-such-flag', '1'], flag: 'no-such-flag' },
  { label: 'a percentage over 100', args: ['read-new-percent', '101'], flag: 'read-new-percent' },
  { label: 'a boolean that is not one', args: ['dual-read', 'maybe'], flag: 'dual-read' },
  { label: 'a valid flag followed by a bad one', args: ['read-new-percent', '9', 'dual-read', 'maybe'], flag: 'dual-read' },
];

describe.each(targets)('flags CLI on $name', (target) => {
  let database: TestDatabase;

  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const flags = (...args: string[]) => runScript('cli/flags.ts', args, { DATABASE_URL: database.url });

  // Refusals change nothing, so they can run side by side (each is its own process).
  describe.concurrent('refusals', () => {
    for (const { label, args, flag } of refusals) {
      it.skipIf(target.skip)(`When \`flags set\` gets ${label}, then it exits non-zero with one line naming ${flag} and changes nothing`, async ({ expect }) => {
        const before = await storedFlagSet(database.db);

        const result = await flags('set', ...args);

        expect(result.code).not.toBe(0);
        expect(result.lines).toHaveLength(1);
        expect(result.lines[0]).toContain(flag);
        expect(await storedFlagSet(database.db)).toEqual(before);
      });
    }
  });

  // After the refusals (they compare the whole flag set before and after): these change it.
  it.skipIf(target.skip)('When `flags set shadow-compare true` is run (the former name), then the dual-read flag is stored true and shown under its name', async ({ expect }) => {
    await writeFlags(database.db, { 'dual-read': false }, 'test: alias, arrange');

    const result = await flags('set', 'shadow-compare', 'true');

    expect(result.code, result.lines.join('\n')).toBe(0);
    expect(result.lines[0]).toMatch(/^flag set version \d+: dual-read=true$/);
    expect((await storedFlagSet(database.db))!.values['dual-read']).toBe(true);
    const rows = await database.db.select<{ name: string; value: string }>("SELECT name, value FROM flags WHERE name IN ('dual-read', 'shadow-compare')");
    expect(rows).toEqual([{ name: 'dual-read', value: 'true' }]);
  });

  it.skipIf(target.skip)('When a row under the former name shadow-compare is stored, then it counts as dual-read until a later write of dual-read', async ({ expect }) => {
    await writeFlags(database.db, { 'dual-read': true }, 'test: alias row, arrange');
    // As tooling from before the rename left it: the flag's row under its old name.
    await database.db.run("UPDATE flags SET name = 'shadow-compare' WHERE name = 'dual-read'");

    expect((await storedFlagSet(database.db))!.values['dual-read']).toBe(true);

    await writeFlags(database.db, { 'dual-read': false }, 'test: alias row, a later write');
    expect((await storedFlagSet(database.db))!.values['dual-read']).toBe(false);
    await database.db.run("DELETE FROM flags WHERE name = 'shadow-compare'");
  });
});
