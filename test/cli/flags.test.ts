// npm run flags (cli/flags.ts): a bad `set` (unknown flag, value out of range, not a boolean) exits non-zero
// with one line naming the flag and changes nothing, not even the flags of the same command that were valid.
// A good `set` and its propagation to running instances: test/shared/flags/provider.test.ts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { runScript } from '../support/scripts.ts';

const targets = await databaseTargets();

const refusals = [
  { label: 'an unknown flag', args: ['no-such-flag', '1'], flag: 'no-such-flag' },
  { label: 'a percentage over 100', args: ['read-new-percent', '101'], flag: 'read-new-percent' },
  { label: 'a boolean that is not one', args: ['shadow-compare', 'maybe'], flag: 'shadow-compare' },
  { label: 'a valid flag followed by a bad one', args: ['read-new-percent', '9', 'shadow-compare', 'maybe'], flag: 'shadow-compare' },
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
});
