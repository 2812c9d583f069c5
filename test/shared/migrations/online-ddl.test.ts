// An instant ALTER that the server refuses (MySQL and MariaDB refuse ALGORITHM=INSTANT on a table with a FULLTEXT
// index or ROW_FORMAT=COMPRESSED; MySQL also after 64 row versions) must fail with one clear message naming the
// online alternatives, and change nothing: silently falling back to a table rebuild is a decision for the operator.
// MySQL 8.4's own refusals are exercised only by the template's GitHub workflow (no MySQL 8 server here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableColumns } from '../../../shared/migrations/columns.ts';
import { runOnlineDdl } from '../../../shared/migrations/online-ddl.ts';
import { mysqlTarget } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';

const target = await mysqlTarget();

describe.skipIf(target.skip !== null)('online DDL on MySQL/MariaDB', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await target.create({ migrateTo: null });
    await database.db.run('CREATE TABLE with_fulltext (id INT PRIMARY KEY, body VARCHAR(100), FULLTEXT KEY body_text (body)) ENGINE=InnoDB');
    await database.db.run('CREATE TABLE compressed (id INT PRIMARY KEY, body VARCHAR(100)) ENGINE=InnoDB ROW_FORMAT=COMPRESSED');
  });
  afterAll(async () => database?.drop());

  it.each(['with_fulltext', 'compressed'])('When ALGORITHM=INSTANT is refused on table %s, then the error names INPLACE, LOCK=NONE and gh-ost/pt-osc, and nothing changed', async (table) => {
    const alter = `ALTER TABLE ${table} ADD COLUMN extra JSON NULL, ${database.db.dialect.instantAddColumn}`;

    const failure = await runOnlineDdl(database.db, alter).then(
      () => null,
      (err: unknown) => err as Error,
    );

    expect(failure?.message).toMatch(/ALGORITHM=INSTANT was refused/);
    expect(failure?.message).toContain('ALGORITHM=INPLACE, LOCK=NONE');
    expect(failure?.message).toMatch(/gh-ost.*pt-online-schema-change/);
    expect(failure?.message).toContain(alter);
    expect(await tableColumns(database.db, table)).toEqual(['id', 'body']);
  });
});
