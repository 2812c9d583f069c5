// Sync in the database: the "up" and "down" triggers on users (pgroll's method, on MariaDB/MySQL and SQLite).
// - up (copy forward): a write that changes the old columns and not profile_data sets profile_data from them;
// - down (copy back): a write that changes profile_data and not the old columns sets the old columns from it;
// - a write that changes both (v2's dual-write) is left alone, and so is a row already in sync.
// Inserts the same way: "changes" means "sets" (non-NULL). One module, used twice: SYNC=trigger installs both
// directions in the expand phase, and under SYNC=app the rollout installs only "up" at live, as a fence for a
// v1 write still in flight in an instance that froze past its stage guard (docs/sync-strategies.md).
//
// Change detection compares bytes (dialect.bytesDiffer: CAST(... AS BINARY) on MariaDB/MySQL, SQLite's BINARY
// comparison), so a case-only or trailing-space change counts under a _ci or PAD SPACE collation.
// MariaDB/MySQL: BEFORE triggers assigning NEW.… (no second write, no recursion possible: a trigger cannot
// update its own table there). SQLite cannot assign NEW, so AFTER triggers issue an UPDATE of the same row;
// that UPDATE would fire the other direction's trigger, so each trigger acts only while the row is out of sync
// (the other side does not already hold the value): the UPDATE it issues brings the row in sync, and nothing
// fires after it, whether recursive_triggers is on or off.
//
// Install and drop are online: each CREATE/DROP TRIGGER runs through runOnlineDdl (a 2 s metadata-lock wait on
// MariaDB/MySQL, retried; BEGIN IMMEDIATE on SQLite), since CREATE TRIGGER takes an exclusive metadata lock on
// the table and would otherwise queue every write behind a long transaction for lock_wait_timeout (one day).
// Both are idempotent (IF NOT EXISTS / IF EXISTS): an interrupted install or drop simply runs again.
import type { Database } from '../db/connection.ts';
import type { Dialect } from '../db/dialect.ts';
import { runOnlineDdl } from '../migrations/online-ddl.ts';
import { requireSql } from '../mapping-contract.ts';
import { mapping } from '../schema-mapping.ts';

const { table: TABLE, newColumn: NEW_COLUMN, oldColumnNames: OLD_COLUMNS, keyColumn: KEY_COLUMN } = mapping;
/**
 * A mapping with no SQL form (its transform is code only) cannot copy forward in the database. Its "up" trigger
 * INVALIDATES instead: a write of the old columns alone sets the new column to NULL, which every reader already
 * treats as "not there yet" (v2's dual-read falls back to the old columns and repairs the row in code; verify
 * counts it missing and the backfill fills it). The fence's promise holds (no read of the new column ever sees a
 * value older than the old columns); only "down" has no such form, so SYNC=trigger needs a SQL form.
 */
const INVALIDATES = mapping.sql === null;

export const SYNC_DIRECTIONS = ['up', 'down'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];
const EVENTS = ['insert', 'update'] as const;
type TriggerEvent = (typeof EVENTS)[number];

export function syncTriggerName(direction: SyncDirection, event: TriggerEvent): string {
  return `${TABLE}_sync_${direction}_${event}`;
}

/** Installed: every trigger of the direction exists; partial: some (an interrupted install or drop: run it again). */
export type TriggerPresence = 'installed' | 'absent' | 'partial';

/** The CREATE TRIGGER statements of one direction, for this dialect. */
export function syncTriggerStatements(dialect: Dialect, direction: SyncDirection): string[] {
  return EVENTS.map((event) => (dialect.name === 'sqlite' ? sqliteTrigger(dialect, direction, event) : mysqlTrigger(dialect, direction, event)));
}

/**
 * Why this account's CREATE TRIGGER would be refused, or null. With binary logging on, MariaDB and MySQL require
 * SUPER for CREATE TRIGGER unless log_bin_trust_function_creators=1 (a trigger's effects must replicate
 * deterministically); the least-privilege migrator has TRIGGER only. Asked before anything is recorded or created,
 * so the refusal is one clear line instead of a half-done step.
 */
export async function triggerPrivilegeRefusal(db: Database): Promise<string | null> {
  if (db.dialect.name === 'sqlite') return null;
  const [server] = await db.select<{ logBin: number | string; trust: number | string; account: string }>(
    'SELECT @@log_bin AS logBin, @@log_bin_trust_function_creators AS trust, CURRENT_USER() AS account',
  );
  if (!server || Number(server.logBin) !== 1 || Number(server.trust) === 1) return null;
  const [grant] = await db.select<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SUPER' AND GRANTEE = CONCAT('''', REPLACE(CURRENT_USER(), '@', '''@'''), '''')",
  );
  return Number(grant?.n ?? 0) > 0 ? null : binlogRefusal(server.account);
}

const binlogRefusal = (account: string) =>
  `CREATE TRIGGER is refused to ${account}: binary logging is on, log_bin_trust_function_creators is 0 and the account has no SUPER privilege. ` +
  'An administrator runs SET GLOBAL log_bin_trust_function_creators = 1 (and sets it in the server config), then run this again (docs/sync-strategies.md)';

/**
 * ANTI-PATTERN one-way-trigger, WRONG ON PURPOSE (make demo SYNC=trigger SCENARIO=one-way-trigger): with
 * ANTI_PATTERN=one-way-trigger in the environment of the installing command (db:migrate, rollout, db:contract),
 * the install creates "up" only and never "down", as a hand-written sync that copies one way does. Under
 * SYNC=trigger a v1 still serves through live and new-only; v2's new-only writes then never reach the old
 * columns it reads (stale, and new users missing to it). Every install asks again, so the missing "down" stays
 * missing (rollout status shows it absent). Returns the directions it installed.
 */
const ONE_WAY_TRIGGER = 'one-way-trigger';
const oneWayFrom = (env: NodeJS.ProcessEnv) => env.ANTI_PATTERN === ONE_WAY_TRIGGER;

export async function installSyncTriggers(
  db: Database,
  directions: readonly SyncDirection[],
  { log = () => {}, oneWay = oneWayFrom(process.env) }: { log?: (line: string) => void; oneWay?: boolean } = {},
): Promise<SyncDirection[]> {
  if (oneWay && directions.includes('down')) log(`  down NOT installed: ANTI_PATTERN=${ONE_WAY_TRIGGER} (wrong on purpose: v2's writes of ${NEW_COLUMN} alone never reach ${OLD_COLUMNS.join('/')})`);
  directions = oneWay ? directions.filter((direction) => direction !== 'down') : directions;
  if (directions.length === 0) return [];
  const refusal = await triggerPrivilegeRefusal(db);
  if (refusal) throw new Error(refusal);
  for (const direction of directions) {
    for (const [i, sql] of syncTriggerStatements(db.dialect, direction).entries()) {
      log(`  CREATE TRIGGER ${syncTriggerName(direction, EVENTS[i]!)} (${direction}: ${DIRECTION_MEANING[direction]})`);
      try {
        await runOnlineDdl(db, sql, { log });
      } catch (err) {
        // The check above reads grants as information_schema shows them; the server has the last word.
        if (/ER_BINLOG_CREATE_ROUTINE_NEED_SUPER|log_bin_trust_function_creators/.test(`${(err as { parent?: { code?: string } }).parent?.code ?? ''} ${(err as Error).message}`)) {
          const [who] = await db.select<{ account: string }>('SELECT CURRENT_USER() AS account');
          throw new Error(binlogRefusal(who?.account ?? 'this account'));
        }
        throw err;
      }
    }
  }
  return [...directions];
}

export async function dropSyncTriggers(db: Database, directions: readonly SyncDirection[], { log = () => {} }: { log?: (line: string) => void } = {}): Promise<void> {
  for (const direction of directions) {
    for (const event of EVENTS) {
      log(`  DROP TRIGGER ${syncTriggerName(direction, event)}`);
      await runOnlineDdl(db, `DROP TRIGGER IF EXISTS ${syncTriggerName(direction, event)}`, { log });
    }
  }
}

/** Which directions the database holds right now, read from its catalog (a fact, never a remembered setting). */
export async function syncTriggerPresence(db: Database): Promise<Record<SyncDirection, TriggerPresence>> {
  const rows =
    db.dialect.name === 'sqlite'
      ? await db.select<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1", [TABLE])
      : await db.select<{ name: string }>('SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = $1', [TABLE]);
  const present = new Set(rows.map((row) => row.name));
  const presence = (direction: SyncDirection): TriggerPresence => {
    const count = EVENTS.filter((event) => present.has(syncTriggerName(direction, event))).length;
    return count === EVENTS.length ? 'installed' : count === 0 ? 'absent' : 'partial';
  };
  return { up: presence('up'), down: presence('down') };
}

const DIRECTION_MEANING: Record<SyncDirection, string> = {
  up: `a write of ${OLD_COLUMNS.join('/')} alone sets ${NEW_COLUMN}`,
  down: `a write of ${NEW_COLUMN} alone sets ${OLD_COLUMNS.join('/')}`,
};

/** The conditions of one trigger, over NEW/OLD (`row` is how the trigger names the written row: `NEW`). */
function conditions(dialect: Dialect, direction: SyncDirection, event: TriggerEvent) {
  const at = (column: string) => `NEW.${column}`;
  const differs = dialect.bytesDiffer;
  const oldWritten =
    event === 'insert' ? OLD_COLUMNS.map((c) => `${at(c)} IS NOT NULL`).join(' OR ') : OLD_COLUMNS.map((c) => differs(at(c), `OLD.${c}`)).join(' OR ');
  const newWritten = event === 'insert' ? `${at(NEW_COLUMN)} IS NOT NULL` : differs(at(NEW_COLUMN), `OLD.${NEW_COLUMN}`);
  if (!mapping.sql) {
    // Only code can compute the new column (invalidating; see INVALIDATES): a write of the old columns alone
    // clears it, once. The clearing UPDATE (SQLite) writes the new column only, so it fires nothing further.
    if (direction === 'down') requireSql(mapping, 'the down trigger');
    return `(${oldWritten}) AND NOT (${newWritten}) AND ${at(NEW_COLUMN)} IS NOT NULL`;
  }
  const fromProfile = mapping.sql.oldFromNewSql(dialect, at(NEW_COLUMN));
  // The row already in sync: profile_data holds exactly the old columns (byte for byte). The recursion guard.
  const outOfSync = OLD_COLUMNS.map((c) => differs(fromProfile[c]!, at(c))).join(' OR ');
  if (direction === 'up') {
    // Copy forward only whole values: a row whose old columns are NULL (written in new-only) has nothing to copy.
    const complete = OLD_COLUMNS.map((c) => `${at(c)} IS NOT NULL`).join(' AND ');
    return `(${oldWritten}) AND NOT (${newWritten}) AND ${complete} AND (${outOfSync})`;
  }
  // Copy back only a profile_data the app can read (every field a JSON string): never NULLs from a cleared one
  // (the `sequential` strategy's first statement sets profile_data to NULL with the old columns).
  const readable = OLD_COLUMNS.map((c) => `${fromProfile[c]} IS NOT NULL`).join(' AND ');
  return `(${newWritten}) AND NOT (${oldWritten}) AND ${readable} AND (${outOfSync})`;
}

function mysqlTrigger(dialect: Dialect, direction: SyncDirection, event: TriggerEvent): string {
  const assignments =
    direction === 'up'
      ? // The mapping's old -> new SQL names the row's own columns; in a BEFORE trigger they are NEW's.
        `NEW.${NEW_COLUMN} = ${INVALIDATES ? 'NULL' : requireSql(mapping, 'the up trigger').newFromOldSql(dialect, (column) => `NEW.${column}`)}`
      : Object.entries(requireSql(mapping, 'the down trigger').oldFromNewSql(dialect, `NEW.${NEW_COLUMN}`))
          .map(([column, value]) => `NEW.${column} = ${value}`)
          .join(', ');
  return `CREATE TRIGGER IF NOT EXISTS ${syncTriggerName(direction, event)} BEFORE ${event.toUpperCase()} ON ${TABLE} FOR EACH ROW
    IF ${conditions(dialect, direction, event)} THEN SET ${assignments}; END IF`;
}

function sqliteTrigger(dialect: Dialect, direction: SyncDirection, event: TriggerEvent): string {
  const set =
    direction === 'up'
      ? `${NEW_COLUMN} = ${INVALIDATES ? 'NULL' : requireSql(mapping, 'the up trigger').newFromOldSql(dialect)}`
      : Object.entries(requireSql(mapping, 'the down trigger').oldFromNewSql(dialect, NEW_COLUMN))
          .map(([column, value]) => `${column} = ${value}`)
          .join(', ');
  const on = event === 'insert' ? 'INSERT' : `UPDATE OF ${[...OLD_COLUMNS, NEW_COLUMN].join(', ')}`;
  return `CREATE TRIGGER IF NOT EXISTS ${syncTriggerName(direction, event)} AFTER ${on} ON ${TABLE} FOR EACH ROW
    WHEN ${conditions(dialect, direction, event)}
    BEGIN UPDATE ${TABLE} SET ${set} WHERE ${KEY_COLUMN} = NEW.${KEY_COLUMN}; END`;
}
