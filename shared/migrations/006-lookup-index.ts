// 006-lookup-index (expand, before stage live): the index a lookup by a field that moves into the new column uses
// once reads trust it (GET /<route>?<param>=...; the mapping's `lookup`). Nothing reads it before live: until then
// the old columns are the truth and a lookup is answered from them (app-v2/dual-read.ts). Adding it early lets
// the index be built, online, long before it is needed. A mapping without a lookup gets nothing.
// What is online (shared/db/lookup-index.ts has the statements):
//   MariaDB/MySQL: ADD COLUMN <newColumn>_<param> ... VIRTUAL is instant (metadata only); ADD INDEX on it is
//   ALGORITHM=INPLACE, LOCK=NONE (reads and writes go on while it builds; a short metadata lock at the start and
//   the end). Both through runOnlineDdl (short lock wait, retries). MariaDB 10.11 accepts neither in one ALTER
//   together with the other, nor ALGORITHM=INSTANT for the index.
//   SQLite: CREATE INDEX on the JSON expression; SQLite has no online DDL: the write lock is held while it builds.
// Down drops the index, then the column.
// On MySQL/MariaDB the contract steps around the index (withLookupIndexSteppedAside below): MariaDB cannot drop a
// column instantly while the table has an indexed virtual column.
import { lookupIndex } from '../db/lookup-index.ts';
import { mapping } from '../schema-mapping.ts';
import { runOnlineDdl } from './online-ddl.ts';
import type { Database } from '../db/connection.ts';
import type { Migration, MigrationContext } from './types.ts';

export const lookupIndexMigration: Migration = {
  name: '006-lookup-index',
  description: mapping.lookup
    ? `indexes ${mapping.table}.${mapping.newColumn} ${mapping.lookup.jsonPath} for the lookup by ${mapping.lookup.param} (online)`
    : `nothing for mapping ${mapping.id} (it declares no lookup)`,
  async up({ db, log }) {
    for (const statement of lookupIndex(mapping, db.dialect)?.add ?? []) {
      log(`  ${statement}`);
      await runOnlineDdl(db, statement, { log });
    }
  },
  async down({ db, log }) {
    for (const statement of lookupIndex(mapping, db.dialect)?.drop ?? []) {
      log(`  ${statement}`);
      await runOnlineDdl(db, statement, { log });
    }
  },
};

/**
 * A later migration that alters the table's columns (007's online NULL-ability change, the contract's instant
 * drop and its down's re-add), with the lookup index stepped aside on MySQL/MariaDB. MariaDB 10.11 refuses every
 * instant (and every LOCK=NONE) ADD, DROP or MODIFY COLUMN on a table that has an INDEXED virtual column ("online
 * rebuild with indexed virtual columns"); a virtual column without an index does not stop it. So the migration
 * runs between dropping the index (online, metadata only) and building it again (online, in time proportional to
 * the table), always re-built, even when the migration fails. Meanwhile a lookup still answers, through the
 * generated column without its index: a scan, slower, never wrong. 007 and 099 themselves stay as they ran
 * everywhere (frozen history); this wraps them.
 */
export function withLookupIndexSteppedAside(contract: Migration): Migration {
  const around = async ({ db, log }: MigrationContext, step: () => Promise<void>) => {
    const index = lookupIndex(mapping, db.dialect);
    if (!index || db.dialect.name === 'sqlite' || !(await hasIndex(db, index.lookup.indexName))) return step();
    const [addIndex] = index.add.slice(-1);
    const [dropIndex] = index.drop;
    log(`  ${dropIndex!} (an indexed virtual column forbids the instant ALTER that follows)`);
    await runOnlineDdl(db, dropIndex!, { log });
    try {
      await step();
    } finally {
      log(`  ${addIndex!}`);
      await runOnlineDdl(db, addIndex!, { log });
    }
  };
  return {
    ...contract,
    up: (context) => around(context, () => contract.up(context)),
    down: (context) => around(context, () => contract.down(context)),
  };
}

async function hasIndex(db: Database, name: string): Promise<boolean> {
  const rows = await db.select<{ n: number | string }>(
    'SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1 AND INDEX_NAME = $2',
    [mapping.table, name],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
