// The migration linter (npm run db:lint): each rule fails on a planted migration that breaks it, on every
// dialect where the mistake can be made, with a message that names the safe alternative; the same change is
// accepted in the phase where it belongs; and the project's own migrations pass, on SQLite and MySQL/MariaDB.
import { describe, expect, it } from 'vitest';
import { base } from '../../../shared/migrations/001-base.ts';
import { expand } from '../../../shared/migrations/002-expand.ts';
import { migrations } from '../../../shared/migrations/index.ts';
import { lintMigrations } from '../../../shared/migrations/lint/index.ts';
import { lintOrder } from '../../../shared/migrations/lint/rules.ts';
import { runOnlineDdl } from '../../../shared/migrations/online-ddl.ts';
import type { Migration, MigrationContext } from '../../../shared/migrations/types.ts';
import { MYSQL_URL, mysqlTarget } from '../../support/databases.ts';
import { runScript } from '../../support/scripts.ts';

const mysql = await mysqlTarget();
const dialects = [
  { name: 'sqlite', adminUrl: undefined, skip: null },
  { name: 'mysql', adminUrl: MYSQL_URL, skip: mysql.skip },
] as const;

/** One dialect at a time: SQLite, or the MySQL/MariaDB server at adminUrl. */
const options = (adminUrl: string | undefined) => (adminUrl ? { sqlite: false, mysqlAdminUrl: adminUrl } : {});

/** An expand migration (neither the first nor contract) that runs `up` on top of 001 and 002. */
function planted(up: (context: MigrationContext) => Promise<void>, extra: Partial<Migration> = {}): Migration[] {
  return [base, expand, { name: '007-planted', description: 'a planted mistake', up, down: async () => {}, ...extra }];
}

async function rulesFound(list: Migration[], adminUrl: string | undefined): Promise<string[]> {
  const report = await lintMigrations(list, options(adminUrl));
  for (const finding of report.findings) expect(finding.message, finding.rule).toMatch(/ Safe: /);
  return report.findings.map((f) => f.rule);
}

/** Through the online-DDL helper with the dialect's instant clause: only the schema rules can object. */
const onlineAlter = (clause: string) => async ({ db }: MigrationContext) =>
  runOnlineDdl(db, `ALTER TABLE users ${clause}${db.dialect.name === 'sqlite' ? '' : `, ${db.dialect.instantAddColumn}`}`);

describe.each(dialects)('db:lint on $name', ({ name, adminUrl, skip }) => {
  describe.skipIf(skip !== null)(skip ? `(SKIPPED: ${skip})` : 'rules', () => {
    it('When the project\'s own migrations are linted, then there is no finding', async () => {
      const report = await lintMigrations(migrations, options(adminUrl));

      expect(report.findings).toEqual([]);
      expect(report.dialects).toEqual([expect.stringMatching(adminUrl ? /MariaDB|^\d/ : /^SQLite /)]);
    });

    it('When an expand migration drops a column, then no-drop-column fails it; the same drop as the contract migration passes', async () => {
      expect(await rulesFound(planted(onlineAlter('DROP COLUMN email')), adminUrl)).toEqual(['no-drop-column']);
      expect(await rulesFound(planted(onlineAlter('DROP COLUMN email'), { name: '099-contract', contract: true }), adminUrl)).toEqual([]);
    });

    it('When an expand migration renames a column, then no-rename fails it', async () => {
      expect(await rulesFound(planted(onlineAlter('RENAME COLUMN name TO full_name')), adminUrl)).toEqual(['no-rename']);
    });

    it('When an expand migration drops a table, then no-drop-table fails it', async () => {
      const found = await rulesFound(planted(async ({ db }) => runOnlineDdl(db, 'DROP TABLE flag_set')), adminUrl);
      expect(found).toEqual(['no-drop-table']);
    });

    it.skipIf(name === 'sqlite')('When an expand migration changes a column type, then no-type-change fails it', async () => {
      const found = await rulesFound(planted(async ({ db }) => runOnlineDdl(db, 'ALTER TABLE users MODIFY email VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL')), adminUrl);
      // No server changes a column type in place (INSTANT and INPLACE refuse it), so the ALTER also fails
      // alter-algorithm: both say so.
      expect(found).toEqual(['no-type-change', 'alter-algorithm']);
    });

    it.skipIf(name === 'sqlite')('When an expand migration makes a nullable column NOT NULL, or adds a NOT NULL column without a default, then no-new-not-null / add-nullable-only fail it; with a default it passes', async () => {
      expect(await rulesFound(planted(async (context) => runOnlineDdl(context.db, 'ALTER TABLE users MODIFY profile_data JSON NOT NULL, ALGORITHM=INPLACE, LOCK=NONE')), adminUrl)).toContain('no-new-not-null');
      expect(await rulesFound(planted(onlineAlter('ADD COLUMN nickname VARCHAR(50) NOT NULL')), adminUrl)).toEqual(['add-nullable-only']);
      expect(await rulesFound(planted(onlineAlter("ADD COLUMN nickname VARCHAR(50) NOT NULL DEFAULT ''")), adminUrl)).toEqual([]);
    });

    it.skipIf(name === 'sqlite')('When an ALTER states no online algorithm, then alter-algorithm fails it; with ALGORITHM=INPLACE, LOCK=NONE it passes', async () => {
      const alter = (tail: string) => planted(async ({ db }) => runOnlineDdl(db, `ALTER TABLE users ADD COLUMN nickname VARCHAR(50) NULL${tail}`));
      expect(await rulesFound(alter(''), adminUrl)).toEqual(['alter-algorithm']);
      expect(await rulesFound(alter(', ALGORITHM=COPY'), adminUrl)).toEqual(['alter-algorithm']);
      expect(await rulesFound(alter(', ALGORITHM=INPLACE, LOCK=SHARED'), adminUrl)).toEqual(['alter-algorithm']);
      expect(await rulesFound(alter(', ALGORITHM=INPLACE, LOCK=NONE'), adminUrl)).toEqual([]);
    });

    it.skipIf(name === 'sqlite')('When a DDL on a live table runs without a short session lock_wait_timeout on its connection, then lock-wait-timeout fails it', async () => {
      const withoutHelper = planted(async ({ db }) => db.run(`ALTER TABLE users ADD COLUMN nickname VARCHAR(50) NULL, ${db.dialect.instantAddColumn}`));
      const longWait = planted(async ({ db }) => db.transaction(async (tx) => {
        await tx.run('SET SESSION lock_wait_timeout = 3600');
        await tx.run(`ALTER TABLE users ADD COLUMN nickname VARCHAR(50) NULL, ${db.dialect.instantAddColumn}`);
      }));

      expect(await rulesFound(withoutHelper, adminUrl)).toEqual(['lock-wait-timeout']);
      expect(await rulesFound(longWait, adminUrl)).toEqual(['lock-wait-timeout']);
    });
  });
});

describe('db:lint order rules', () => {
  it('When the contract migration is not the last, or names do not sort in run order, then the order rules fail the list', () => {
    expect(lintOrder([base, { ...expand, contract: true }, { ...expand, name: '003-expand-again' }]).map((f) => `${f.migration} ${f.rule}`)).toEqual(['002-expand contract-last']);
    expect(lintOrder([base, { ...expand, name: '010-expand' }, { ...expand, name: '003-later' }]).map((f) => `${f.migration} ${f.rule}`)).toEqual(['003-later numbered']);
    expect(lintOrder([base, { ...expand, name: 'expand' }]).map((f) => `${f.migration} ${f.rule}`)).toEqual(['expand numbered']);
    expect(lintOrder(migrations)).toEqual([]);
  });
});

describe('npm run db:lint', () => {
  it('When run on the project\'s migrations, then it exits 0 with one summary line; a bad --mysql exits 2 naming the flag', async () => {
    const ok = await runScript('cli/db-lint.ts', [], {}, { timeoutMs: 60_000 });
    expect(ok.code).toBe(0);
    expect(ok.lines).toEqual([expect.stringMatching(/^db:lint: \d+ migrations on SQLite [\d.]+: no findings$/)]);

    const bad = await runScript('cli/db-lint.ts', ['--mysql', 'mysql://root@127.0.0.1:3306/app'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mysql: must be a server URL without a database/);
  }, 90_000);
});
