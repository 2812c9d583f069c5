// The SQL each dialect writes for the mapping, unit-tested per dialect (MySQL 8.4 itself runs only in the
// template's GitHub workflow: no MySQL 8 server here), and the traps MariaDB hides checked where they can be:
// - JSON_VALUE returns VARCHAR(512) on MySQL 8 unless told otherwise: a longer field would be cut and show as
//   permanent "different" drift. String fields are read with JSON_UNQUOTE(JSON_EXTRACT(...)) (LONGTEXT) instead;
// - an old column's collation is the one the table already has, never rewritten to utf8mb4_bin (a `_ci` column
//   cannot become `_bin` in place).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectNamed } from '../../../shared/db/dialect.ts';
import { driftSql } from '../../../shared/drift-sql.ts';
import { migrateUp } from '../../../shared/migrations/runner.ts';
import { mapping } from '../../../shared/schema-mapping.ts';
import { databaseTargets, mysqlTarget } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';

describe('the mapping\'s SQL per dialect', () => {
  it.each(['mysql', 'mariadb'] as const)('When %s reads a string field of the new column, then it uses JSON_UNQUOTE(JSON_EXTRACT()), never a width-limited JSON_VALUE', (name) => {
    const drift = driftSql(dialectNamed(name), mapping);

    for (const sql of [drift.valid, drift.different, ...Object.values(drift.fieldOf)]) {
      expect(sql).not.toMatch(/JSON_VALUE/);
      expect(sql).toMatch(/JSON_UNQUOTE\(JSON_EXTRACT\(profile_data, '\$\.(name|email)'\)\)/);
    }
    expect(drift.different).toMatch(/CAST\(.* AS BINARY\)/);
  });

  it('When SQLite reads a string field, then it checks json_valid first (json_type raises on malformed JSON) and compares with IS NOT', () => {
    const drift = driftSql(dialectNamed('sqlite'), mapping);

    expect(drift.fieldOf.name).toBe("(CASE WHEN json_valid(profile_data) THEN (CASE WHEN json_type(profile_data, '$.name') = 'text' THEN json_extract(profile_data, '$.name') END) END)");
    expect(drift.different).toContain(`(${drift.fieldOf.email} IS NOT email)`);
  });

  it('When MySQL adds a column instantly, then the clause has no LOCK (MySQL 8 refuses LOCK=NONE with INSTANT); MariaDB keeps LOCK=NONE', () => {
    expect(dialectNamed('mysql').instantAddColumn).toBe('ALGORITHM=INSTANT');
    expect(dialectNamed('mariadb').instantAddColumn).toBe('ALGORITHM=INSTANT, LOCK=NONE');
  });
});

const targets = await databaseTargets();

describe.each(targets)('a long field through the drift SQL on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (!target.skip) database = await target.create({ migrateTo: null });
  });
  afterAll(async () => database?.drop());

  it.skipIf(target.skip !== null)('When a field is longer than 512 characters, then the SQL reads it back whole and calls the row in sync', async () => {
    const long = { name: 'ä'.repeat(700), email: `${'x'.repeat(600)}@example.test` };
    const drift = driftSql(database.db.dialect, mapping);

    const [row] = await database.db.select<{ name: string; email: string; different: unknown }>(
      `SELECT ${drift.fieldOf.name} AS name, ${drift.fieldOf.email} AS email, CASE WHEN ${drift.different} THEN 1 ELSE 0 END AS different FROM (SELECT $1 AS name, $2 AS email, $3 AS profile_data) AS t`,
      [long.name, long.email, mapping.newJson(long)],
    );

    expect(row).toEqual({ ...long, different: 0 });
  });
});

const mysql = await mysqlTarget();

describe.skipIf(mysql.skip !== null)('the old columns\' collation on MySQL/MariaDB', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await mysql.create({ migrateTo: '006-instance-strategy' });
  });
  afterAll(async () => database?.drop());

  it('When a table\'s old column is case-insensitive (_ci), then 007 makes it nullable and keeps its collation', async () => {
    await database.db.run('ALTER TABLE users MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL');

    await migrateUp(database.db, { to: '007-relax-old-columns' });

    const columns = await database.db.select<{ name: string; collation: string; nullable: string }>(
      "SELECT COLUMN_NAME AS name, COLLATION_NAME AS collation, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME IN ('name', 'email') ORDER BY COLUMN_NAME",
    );
    expect(columns).toEqual([
      { name: 'email', collation: 'utf8mb4_bin', nullable: 'YES' },
      { name: 'name', collation: 'utf8mb4_unicode_ci', nullable: 'YES' },
    ]);
  });
});
