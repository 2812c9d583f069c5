// The migration linter's rules (npm run db:lint; docs/migration-lint.md): what each phase of the rollout may do
// to a schema that v1 and v2 share. Anchored on strong_migrations' checks (remove/rename a column, change a
// type, add NOT NULL, lock timeouts) and Spirit's lint for MySQL (an ALTER must not fall back to a copying,
// locking algorithm). Each finding names the safe alternative.
//   base      (the first migration: the schema v1 was built for)   anything
//   expand    (every other migration but the contract)             add tables, add nullable (or defaulted) columns,
//                                                                  relax NOT NULL; nothing v1 relies on may go
//   contract  (`contract: true`, the last migration, db:contract)  drops, behind its gate
// On MySQL/MariaDB, every DDL on an existing table (any phase but base) states an online algorithm and runs
// with a short session lock_wait_timeout.
import type { Migration } from '../types.ts';
import type { ColumnShape, MigrationTrace, Schema, Trace } from './trace.ts';

export type Phase = 'base' | 'expand' | 'contract';

export interface Finding {
  migration: string;
  phase: Phase;
  rule: string;
  message: string;
}

/** The longest session lock_wait_timeout (seconds) a DDL on a live table may wait for its metadata lock. */
export const MAX_LOCK_WAIT_TIMEOUT_S = 10;

export function phaseOf(migration: Migration, index: number): Phase {
  if (migration.contract) return 'contract';
  return index === 0 ? 'base' : 'expand';
}

/** Rules on the list itself: numbering and the contract's place. */
export function lintOrder(migrations: readonly Migration[]): Finding[] {
  const findings: Finding[] = [];
  const finding = (migration: Migration, index: number, rule: string, message: string) => findings.push({ migration: migration.name, phase: phaseOf(migration, index), rule, message });
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (!/^\d{3}-[a-z0-9-]+$/.test(migration.name)) {
      finding(migration, index, 'numbered', `the name must be NNN-what-it-does (got ${JSON.stringify(migration.name)}), so files sort in the order they run`);
    } else if (previous && previous.name >= migration.name) {
      finding(migration, index, 'numbered', `runs after ${previous.name} but does not sort after it: number migrations in the order they run`);
    }
    if (migration.contract && index !== migrations.length - 1) {
      finding(migration, index, 'contract-last', `a contract migration must be the last one (db:migrate applies every migration before it, db:contract only it, behind its gate): number new migrations below ${migration.name}`);
    }
  });
  return findings;
}

function columnsOf(schema: Schema, table: string): Map<string, ColumnShape> {
  return schema.get(table) ?? new Map();
}

/** Schema changes an expand migration may not make, read from the schema before and after it. */
function lintSchemaChange(trace: MigrationTrace, phase: Phase): Finding[] {
  if (phase !== 'expand') return [];
  const findings: Finding[] = [];
  const add = (rule: string, message: string) => findings.push({ migration: trace.migration.name, phase, rule, message });
  for (const [table, before] of trace.before) {
    if (!trace.after.has(table)) {
      add('no-drop-table', `drops table ${table} outside the contract phase, while a running version may still use it. Safe: stop using it in the new version, and drop it in the contract migration (contract: true, run by db:contract behind its gate) once no old version is alive`);
      continue;
    }
    const after = columnsOf(trace.after, table);
    const added = [...after.keys()].filter((column) => !before.has(column));
    for (const [column, was] of before) {
      const now = after.get(column);
      if (!now) {
        const renamedTo = added.find((candidate) => after.get(candidate)!.type === was.type);
        if (renamedTo) {
          added.splice(added.indexOf(renamedTo), 1);
          add('no-rename', `renames ${table}.${column} to ${renamedTo}: every running v1 that names ${column} fails at once. Safe: add ${renamedTo} (nullable) in expand, dual-write both, backfill, verify, shift reads, and drop ${column} in the contract migration`);
        } else {
          add('no-drop-column', `drops ${table}.${column} outside the contract phase, while v1 still reads and writes it. Safe: stop using the column in the new version, and drop it in the contract migration (contract: true, run by db:contract behind its gate) once no v1 is alive`);
        }
        continue;
      }
      if (now.type !== was.type) {
        add('no-type-change', `changes the type of ${table}.${column} from ${was.type} to ${now.type}: the server may rewrite the table, and values one version writes may not fit what the other expects. Safe: add a new column of the new type (nullable), dual-write, backfill, verify, shift reads, and drop the old column in the contract migration`);
      }
      if (was.nullable && !now.nullable) {
        add('no-new-not-null', `makes ${table}.${column} NOT NULL: a version that leaves it out (or writes NULL) starts failing, and on MySQL the table is rebuilt. Safe: keep it nullable and enforce the value in the application; add the constraint in the contract phase, after a verify finds no NULL`);
      }
    }
    for (const column of added) {
      const shape = after.get(column)!;
      if (!shape.nullable && !shape.hasDefault) {
        add('add-nullable-only', `adds ${table}.${column} NOT NULL without a default: v1's INSERTs do not name it and fail. Safe: add it NULL (or with a DEFAULT), backfill it, and make it NOT NULL only in the contract phase`);
      }
    }
  }
  return findings;
}

const DDL_ON_TABLE: RegExp[] = [
  /^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+`?(\w+)`?/i,
  /^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?`?(\w+)`?/i,
  /^\s*RENAME\s+TABLE\s+`?(\w+)`?/i,
  /^\s*TRUNCATE\s+(?:TABLE\s+)?`?(\w+)`?/i,
  /^\s*CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+`?\w+`?\s+ON\s+`?(\w+)`?/i,
  /^\s*DROP\s+INDEX\s+`?\w+`?\s+ON\s+`?(\w+)`?/i,
];
const LOCK_WAIT = /^\s*SET\s+(?:SESSION\s+|@@SESSION\.|LOCAL\s+)?lock_wait_timeout\s*=\s*(\d+)\s*$/i;

/** MySQL/MariaDB: each DDL on a table that existed before the migration. */
function lintStatements(trace: MigrationTrace, phase: Phase): Finding[] {
  if (phase === 'base') return [];
  const findings: Finding[] = [];
  const add = (rule: string, message: string) => findings.push({ migration: trace.migration.name, phase, rule, message });
  const lockWait = new Map<number, number>();
  for (const { sql, checkout } of trace.statements) {
    const setting = LOCK_WAIT.exec(sql);
    if (setting) {
      lockWait.set(checkout, Number(setting[1]));
      continue;
    }
    const table = DDL_ON_TABLE.map((pattern) => pattern.exec(sql)?.[1]).find(Boolean);
    if (!table || !trace.before.has(table)) continue;
    const statement = sql.replace(/\s+/g, ' ').trim();
    const bound = lockWait.get(checkout);
    if (bound === undefined || bound > MAX_LOCK_WAIT_TIMEOUT_S) {
      add('lock-wait-timeout', `"${statement}" runs ${bound === undefined ? 'without a session lock_wait_timeout' : `with lock_wait_timeout ${bound} s`}: behind one open transaction it waits for the metadata lock (default 86400 s) while every later query on ${table} queues behind it. Safe: run it with runOnlineDdl (shared/migrations/online-ddl.ts: SET SESSION lock_wait_timeout = 2 on the same connection, then retries), or set it to at most ${MAX_LOCK_WAIT_TIMEOUT_S} s yourself`);
    }
    if (/^\s*ALTER\b/i.test(sql)) {
      const algorithm = /\bALGORITHM\s*=?\s*(\w+)/i.exec(sql)?.[1]?.toUpperCase();
      const lock = /\bLOCK\s*=?\s*(\w+)/i.exec(sql)?.[1]?.toUpperCase();
      const online = algorithm === 'INSTANT' ? lock === undefined || lock === 'NONE' || lock === 'DEFAULT' : algorithm === 'INPLACE' && lock === 'NONE';
      if (!online) {
        add('alter-algorithm', `"${statement}" does not state an online algorithm (${algorithm ? `ALGORITHM=${algorithm}` : 'no ALGORITHM'}${lock ? `, LOCK=${lock}` : ''}): the server may copy the table and block writes for the whole copy. Safe: state ALGORITHM=INSTANT (metadata only; db.dialect.instantAddColumn) or ALGORITHM=INPLACE, LOCK=NONE, so the server refuses instead of locking; when neither is accepted, use an online schema change tool (gh-ost, Spirit) instead of ALTER`);
      }
    }
  }
  return findings;
}

export function lintTrace(trace: Trace): Finding[] {
  return trace.migrations.flatMap((migration) => {
    const phase = phaseOf(migration.migration, migration.index);
    return [...lintSchemaChange(migration, phase), ...lintStatements(migration, phase)];
  });
}
