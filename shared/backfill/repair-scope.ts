// Which drifted rows a backfill run may copy (its repair scope), as data and as SQL. The rollout's way back
// (shared/rollout/way-back.ts) decides the scope from the rollout state and hands it to the run; the backfill
// only applies it, so it never needs to know the rollout.

/** A span of the database clock; `to` null = still open. */
export interface TimeWindow {
  from: string;
  to: string | null;
}

/** Which drifted rows a backfill may copy, by when they were last written. */
export interface RepairScope {
  /** Forward: also copy rows whose old columns and valid profile_data differ (false while new-only's writes may be newer). */
  forwardDifferent: boolean;
  /** Reverse: rows last written in this window hold their newest write in profile_data (null: none). */
  profileNewer: TimeWindow | null;
  /** Rows last written in these windows may hold a late v1's write in the old columns: never copied in reverse. */
  lateV1: TimeWindow[];
}

/** The scope of a backfill run without a rollout to judge (tests, 099-contract's down): every drifted row. */
export const UNRESTRICTED: Record<'forward' | 'reverse', RepairScope> = {
  forward: { forwardDifferent: true, profileNewer: null, lateV1: [] },
  reverse: { forwardDifferent: false, profileNewer: { from: '1970-01-01 00:00:00.000', to: null }, lateV1: [] },
};

const DB_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

function timeLiteral(value: string): string {
  if (!DB_TIME.test(value)) throw new Error(`not a database timestamp: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

export function inWindowSql(window: TimeWindow): string {
  return `(updated_at >= ${timeLiteral(window.from)}${window.to === null ? '' : ` AND updated_at <= ${timeLiteral(window.to)}`})`;
}

/** Rows last written inside the late-v1 windows (SQL; false when there are none). */
export function lateV1Sql(scope: RepairScope): string {
  return scope.lateV1.length === 0 ? '(1 = 0)' : `(${scope.lateV1.map(inWindowSql).join(' OR ')})`;
}

/** The reverse scope's window, as SQL (false when none). */
export function profileNewerSql(scope: RepairScope): string {
  return scope.profileNewer === null ? '(1 = 0)' : inWindowSql(scope.profileNewer);
}
