// The rollout log (table rollout_events, migration 005): every advance and rollback, completed, refused or
// still waiting for an instance when it gave up. Read by `rollout status` and by one gate (when new-only ended).
import type { Database } from '../db/connection.ts';
import { dbTime } from '../db/time.ts';

export type TransitionOutcome = 'completed' | 'refused' | 'timed-out';

export interface RolloutEvent {
  id: number;
  at: string;
  /** sync: the sync mode recorded by db:migrate (shared/sync/mode.ts), in `changes`. */
  action: 'advance' | 'rollback' | 'sync';
  fromStage: string;
  toStage: string | null;
  changes: string | null;
  flagSetVersion: number | null;
  outcome: TransitionOutcome;
  detail: string | null;
  actor: string;
}

type RawEvent = {
  id: number | string;
  at: string | Date;
  action: string;
  from_stage: string;
  to_stage: string | null;
  changes: string | null;
  flag_set_version: number | string | null;
  outcome: string;
  detail: string | null;
  actor: string;
};

const toEvent = (r: RawEvent): RolloutEvent => ({
  id: Number(r.id),
  at: dbTime(r.at),
  action: r.action as RolloutEvent['action'],
  fromStage: r.from_stage,
  toStage: r.to_stage,
  changes: r.changes,
  flagSetVersion: r.flag_set_version === null ? null : Number(r.flag_set_version),
  outcome: r.outcome as TransitionOutcome,
  detail: r.detail,
  actor: r.actor,
});

export function rolloutEvents(db: Database) {
  return {
    /** Records a transition; `at` is the database clock at the moment of recording (for completed: all instances had it). */
    async record(event: Omit<RolloutEvent, 'id' | 'at'>): Promise<void> {
      await db.insert(
        `INSERT INTO rollout_events (at, action, from_stage, to_stage, changes, flag_set_version, outcome, detail, actor)
         VALUES (${db.dialect.now}, $1, $2, $3, $4, $5, $6, $7, $8)`,
        [event.action, event.fromStage, event.toStage, event.changes, event.flagSetVersion, event.outcome, event.detail, event.actor],
      );
    },
    async recent(limit = 5): Promise<RolloutEvent[]> {
      return (await db.select<RawEvent>(`SELECT * FROM rollout_events ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`)).map(toEvent);
    },
    async lastCompleted({ from, to }: { from: string; to: string }): Promise<RolloutEvent | null> {
      const [row] = await db.select<RawEvent>("SELECT * FROM rollout_events WHERE outcome = 'completed' AND from_stage = $1 AND to_stage = $2 ORDER BY id DESC LIMIT 1", [from, to]);
      return row ? toEvent(row) : null;
    },
  };
}
