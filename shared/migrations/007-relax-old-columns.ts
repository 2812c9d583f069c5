// 007-relax-old-columns (before rollout step "new-only"): name and email may be NULL, so that v2 in write mode
// new-only can insert a user without naming the old columns at all. v1 never notices: it always writes both.
//
// MySQL/MariaDB: no instant algorithm exists for NULL-ability (MariaDB refuses ALGORITHM=INSTANT with error
// 1845), so this is an online rebuild: ALGORITHM=INPLACE, LOCK=NONE keeps reads and writes flowing while the
// table is copied inside InnoDB (time and I/O grow with the table: run it early, e.g. with db:migrate, not
// in the middle of an incident). It runs through runOnlineDdl like every DDL here (short metadata-lock wait,
// retries). The column types repeat 001-base's, with the same byte-exact collation.
// SQLite: the documented way to drop a NOT NULL constraint without copying the table (sqlite.org/lang_altertable
// "making other kinds of table schema changes"): edit the stored CREATE TABLE text, bump schema_version, in one
// BEGIN IMMEDIATE transaction.
// Down restores NOT NULL, and refuses while any row has a NULL old column (rows written in new-only): the
// reverse backfill fills them first.
import type { Database, Executor } from '../db/connection.ts';
import { mapping } from '../schema-mapping.ts';
import { mysqlColumnType } from './columns.ts';
import { runOnlineDdl } from './online-ddl.ts';
import type { Migration } from './types.ts';

export const relaxOldColumns: Migration = {
  name: '007-relax-old-columns',
  description: `${mapping.table}.${mapping.oldColumnNames.join('/')} nullable (online), so write mode new-only can leave them out`,
  async up({ db, log }) {
    await setOldColumnsNullable(db, true, log);
  },
  async down({ db, log }) {
    await setOldColumnsNullable(db, false, log);
  },
};

async function setOldColumnsNullable(db: Database, nullable: boolean, log: (line: string) => void): Promise<void> {
  if (db.dialect.name === 'sqlite') {
    await db.transaction(async (tx) => {
      if (!nullable) await refuseNullOldColumns(tx);
      await editSqliteTableDefinition(tx, mapping.table, (sql) =>
        mapping.oldColumns.reduce(
          (text, { name, sqliteType }) => replaceOnce(text, `${name} ${sqliteType} ${nullable ? 'NOT NULL' : 'NULL'}`, `${name} ${sqliteType} ${nullable ? 'NULL' : 'NOT NULL'}`),
          sql,
        ),
      );
    });
    return;
  }
  if (!nullable) await refuseNullOldColumns(db);
  const modify: string[] = [];
  for (const column of mapping.oldColumns) modify.push(`MODIFY ${column.name} ${await mysqlColumnType(db, mapping.table, column)} ${nullable ? 'NULL' : 'NOT NULL'}`);
  const alter = `ALTER TABLE ${mapping.table} ${modify.join(', ')}, ALGORITHM=INPLACE, LOCK=NONE`;
  log(`  ${alter}`);
  await runOnlineDdl(db, alter, { log });
}

async function refuseNullOldColumns(ex: Executor): Promise<void> {
  const [row] = await ex.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${mapping.table} WHERE ${mapping.oldColumnNames.map((c) => `${c} IS NULL`).join(' OR ')}`);
  const count = Number(row?.n ?? 0);
  if (count > 0) {
    throw new Error(`${count} rows have NULL ${mapping.oldColumnNames.join('/')} (written in new-only): run npm run backfill -- --reverse first, then migrate down`);
  }
}

function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`unexpected ${mapping.table} definition: expected "${from}" exactly once in ${JSON.stringify(text)}`);
  return parts.join(to);
}

/** SQLite's documented in-place schema edit for constraint-only changes (no table copy). Call inside BEGIN IMMEDIATE. */
async function editSqliteTableDefinition(tx: Executor, table: string, edit: (sql: string) => string): Promise<void> {
  const [version] = await tx.select<{ schema_version: number }>('PRAGMA schema_version');
  const [definition] = await tx.select<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1", [table]);
  if (!version || !definition) throw new Error(`no table ${table}`);
  await tx.run('PRAGMA writable_schema = ON');
  try {
    await tx.update("UPDATE sqlite_master SET sql = $1 WHERE type = 'table' AND name = $2", [edit(definition.sql), table]);
    // Every connection re-reads the schema when the version moves, so none keeps enforcing the old constraint.
    await tx.run(`PRAGMA schema_version = ${Number(version.schema_version) + 1}`);
  } finally {
    await tx.run('PRAGMA writable_schema = OFF');
  }
}
