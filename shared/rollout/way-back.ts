// The way back, for every stage and every late writer: which column holds the newest acknowledged write of a
// drifted row, and so which way a repair may copy it without overwriting a newer write.
//
// Before live, the old columns are the truth: v1 writes only them, v2 writes both. From live on it depends on
// who wrote last, and the database says when (updated_at, set by every write of every version, on the database
// clock) while the registry and the flags say who could write then:
// - new-only (v2 writes only profile_data): from when reads began trusting profile_data until the old columns
//   are verified complete again, a drifted row may hold its newest write in profile_data only;
// - a late v1 (started after live, or frozen across the live gate and resumed): from live on, until it is gone,
//   a drifted row may hold its newest write in the old columns only.
// A row last written inside one of those windows and outside the other has one provable direction; a row last
// written inside both cannot be decided from the data and is never copied either way: the repair lists it and
// the operator writes the right value through v2 (which writes both columns). Each copy is a compare-and-set:
// the window is part of the UPDATE's WHERE, evaluated on the row's current updated_at, so a row written after
// the gate judged the state is left for the next run.
import type { Database } from '../db/connection.ts';
import { keyOf } from '../backfill/key-range.ts';
import { judgeRow } from '../drift-code.ts';
import type { Key } from '../mapping-contract.ts';
import { columns, mapping as activeMapping } from '../schema-mapping.ts';
import type { SchemaMapping } from '../schema-mapping.ts';
import { inWindowSql, lateV1Sql, UNRESTRICTED } from '../backfill/repair-scope.ts';
import type { RepairScope, TimeWindow } from '../backfill/repair-scope.ts';
import { isAfter, laterOf } from '../db/time.ts';
import { driftSql } from '../drift-sql.ts';
import { deriveStage } from './stages.ts';
import type { RolloutState } from './state.ts';

/** v1 instances that may have written after reads began trusting profile_data, each with the span it may have written in. */
export function lateV1Windows(state: RolloutState): { instanceId: string; window: TimeWindow }[] {
  const since = state.liveSince;
  if (since === null) return [];
  return state.v1
    .filter((i) => i.alive || (i.goneAt !== null && isAfter(i.goneAt, since)))
    .map((i) => ({ instanceId: i.instanceId, window: { from: laterOf(i.startedAt, since)!, to: i.alive ? null : i.goneAt } }));
}

/**
 * New-only wrote profile_data alone and the old columns have not been verified complete since: the stage is
 * new-only, or it ended and no clean dual-mode verify started after both its end and the last late v1.
 */
export function newOnlyPending(state: RolloutState): boolean {
  const stage = deriveStage(state).name;
  if (stage === 'new-only') return true;
  // Reads leave live only once the repair is verified (leaveLiveReasons): before live it is never pending, even
  // when a later verify finds a v1's drift there (the forward backfill repairs that, as always before live).
  if (stage !== 'live' || state.newOnlyEndedAt === null) return false;
  const verify = state.verify?.latestDual ?? null;
  const late = lateV1Windows(state).length > 0;
  if (late && state.v1.some((i) => i.alive)) return true;
  const since = late ? laterOf(state.newOnlyEndedAt, state.lastV1GoneAt) : state.newOnlyEndedAt;
  return !(verify && verify.drift === 0 && isAfter(verify.startedAt, since));
}

/** What a backfill in this state may copy: the scope the gate hands the run (the gate's reasons say whether it may run at all). */
export function repairScope(state: RolloutState, direction: 'forward' | 'reverse'): RepairScope {
  const pending = newOnlyPending(state);
  const lateV1 = lateV1Windows(state).map((l) => l.window);
  if (direction === 'forward') return { forwardDifferent: !pending, profileNewer: null, lateV1 };
  // Up to the moment the gate judged: a row written after it (by anyone) is left for the next run.
  return { forwardDifferent: false, profileNewer: pending ? { from: state.liveSince ?? UNRESTRICTED.reverse.profileNewer!.from, to: state.now } : null, lateV1 };
}

/** Drifted rows whose newest write may be in profile_data (the reverse scope) or in the old columns (a late v1): no copy is lossless. */
export function undecidableSql(db: Database, scope: RepairScope, mapping: SchemaMapping = activeMapping): string {
  const drift = driftSql(db.dialect, mapping);
  return scope.profileNewer === null ? '(1 = 0)' : `(${undecidableWindowSql(mapping, scope.profileNewer, scope)} AND ${drift.different})`;
}

/** The undecidable rows' conditions but the drift itself: old columns present, last written in both windows. */
function undecidableWindowSql(mapping: SchemaMapping, profileNewer: TimeWindow, scope: RepairScope): string {
  const oldPresent = mapping.oldColumnNames.map((column) => `${column} IS NOT NULL`).join(' AND ');
  return `${oldPresent} AND ${inWindowSql(profileNewer)} AND ${lateV1Sql(scope)}`;
}

export interface UndecidableRows {
  count: number;
  ids: Key[];
}

/**
 * The rows a reverse repair in this scope must leave to the operator. A mapping without a SQL form: the rows in
 * both windows are read (the windows are SQL on updated_at) and judged `different` in code (drift-code.ts), as
 * the app-side backfill judges them.
 */
export async function undecidableRows(db: Database, scope: RepairScope, limit = 10, mapping: SchemaMapping = activeMapping): Promise<UndecidableRows> {
  const { table, keyColumn: key, newColumn, oldColumnNames } = mapping;
  const most = Math.max(1, Math.floor(limit));
  if (mapping.sql === null) {
    if (scope.profileNewer === null) return { count: 0, ids: [] };
    const rows = await db.select<Record<string, unknown>>(
      `SELECT ${key}, ${oldColumnNames.join(', ')}, ${newColumn} FROM ${table} WHERE ${undecidableWindowSql(mapping, scope.profileNewer, scope)} AND ${newColumn} IS NOT NULL ORDER BY ${key}`,
    );
    const ids = rows.filter((row) => judgeRow(mapping, row).different).map((row) => keyOf(mapping, row[key]));
    return { count: ids.length, ids: ids.slice(0, most) };
  }
  const where = undecidableSql(db, scope, mapping);
  const [row] = await db.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  const ids = await db.select<{ id: number | string }>(`SELECT ${key} AS id FROM ${table} WHERE ${where} ORDER BY ${key} LIMIT ${most}`);
  return { count: Number(row?.n ?? 0), ids: ids.map((r) => keyOf(mapping, r.id)) };
}

/** How to resolve undecidable rows: the one step the tooling cannot take. */
export function undecidableAdvice(rows: UndecidableRows): string {
  const more = rows.count > rows.ids.length ? ` and ${rows.count - rows.ids.length} more` : '';
  return (
    `${rows.count} drifted row${rows.count === 1 ? '' : 's'} (ids ${rows.ids.join(', ')}${more}) were last written while both a late v1 (old columns only) and ` +
    `new-only (${columns.new} only) could write them: the database cannot tell which value is newer, so no backfill copies them. ` +
    `Compare ${columns.old} with ${columns.new} for each and PUT the right value through v2 (it writes both), then npm run verify`
  );
}

/** The commands that repair drift at this stage: what verify's and status's hints name (the gates accept exactly these). */
export function repairHint(state: RolloutState): string {
  const stage = deriveStage(state).name;
  if (stage === 'contracted') return 'the old columns are gone: npm run db:migrate:down re-adds and fills them';
  if (stage === 'new-only') {
    return 'in new-only the old columns are not written: go back first with npm run rollout -- rollback (v2 dual-writes again), then follow npm run rollout -- status';
  }
  if (stage === 'live') {
    if (!newOnlyPending(state)) return 'npm run rollout -- rollback (reads fall back to the old columns at once), then npm run backfill, then npm run verify';
    const late = lateV1Windows(state).length > 0;
    return `${state.v1.some((i) => i.alive) ? 'stop every v1, then ' : ''}npm run backfill -- --reverse${late ? ` and npm run backfill (it fills ${columns.new} of rows a v1 created)` : ''}, then npm run verify -- --mode dual`;
  }
  return 'npm run backfill repairs it, then npm run verify';
}
