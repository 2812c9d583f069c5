// `rollout status`: the stage and everything that decides the next one, as data (for --json and tests) and as
// one screen of text. The stage is derived, never stored: see stages.ts.
import type { Database } from '../db/connection.ts';
import { flagNames } from '../flags/registry.ts';
import { rolloutEvents } from './events.ts';
import type { RolloutEvent } from './events.ts';
import { alarms, laggingInstances, planAdvance, planRollback } from './gates.ts';
import type { Plan } from './gates.ts';
import { deriveStage, STAGE_MEANING, STAGE_STEP } from './stages.ts';
import type { Stage } from './stages.ts';
import { readRolloutState } from './state.ts';
import type { RolloutState } from './state.ts';

export interface RolloutStatus {
  stage: Stage;
  state: RolloutState;
  advance: Plan;
  rollback: Plan;
  alarms: string[];
  recentEvents: RolloutEvent[];
}

export async function rolloutStatus(db: Database): Promise<RolloutStatus> {
  const state = await readRolloutState(db);
  const recentEvents = state.migrations.includes('005-rollout-log') ? await rolloutEvents(db).recent(5) : [];
  return { stage: deriveStage(state), state, advance: planAdvance(state), rollback: planRollback(state), alarms: alarms(state), recentEvents };
}

export function formatStatus({ stage, state, advance, rollback, alarms: raised, recentEvents }: RolloutStatus): string {
  const lines: string[] = [];
  lines.push(`stage: ${stage.label} (step ${STAGE_STEP[stage.name]} of the README's 0-11): ${STAGE_MEANING[stage.name]}`);
  lines.push(`  schema    ${state.migrations.join(', ') || 'empty'}`);
  if (state.flags) {
    lines.push(`  flags     v${state.flags.version}: ${flagNames.map((name) => `${name}=${state.flags!.values[name]}`).join(' ')}`);
  }
  const versions = [...new Set(state.alive.map((i) => i.appVersion))].sort();
  const lagging = laggingInstances(state);
  lines.push(
    `  fleet     ${state.alive.length} alive${versions.map((v) => ` ${v}:${state.alive.filter((i) => i.appVersion === v).length}`).join('')}` +
      (lagging.length === 0 ? ', all on the current flag set' : `; not yet on flag-set v${state.flags?.version}: ${lagging.map((i) => `${i.instanceId} (v${i.flagSetVersion ?? '-'})`).join(', ')}`),
  );
  const v1Alive = state.v1.filter((i) => i.alive);
  lines.push(
    `  v1        ${v1Alive.length > 0 ? `${v1Alive.length} alive` : 'none alive'}; ${state.v1.length} in history${state.lastV1GoneAt ? `; last gone ${state.lastV1GoneAt}` : ''}`,
  );
  if (state.backfill) {
    const { unfinished, forwardDone, reverseDone } = state.backfill;
    const describe = (label: string, run: NonNullable<typeof unfinished>) => {
      const total = Math.max(0, run.rangeEnd - run.rangeStart + 1);
      const pct = total === 0 ? 100 : Math.min(100, (100 * (run.nextId - run.rangeStart)) / total);
      // String keys (uuid): the numbers count rows (backfill/checkpoint.ts), the keys are the range's ends.
      const keys = run.stringKeys ? `keys ${run.stringKeys.start}..${run.stringKeys.end} (~${run.rangeEnd} rows)` : `keys ${run.rangeStart}..${run.rangeEnd}`;
      return `${label} #${run.id} ${run.direction} ${keys}: ${run.status === 'done' ? `done ${run.finishedAt}` : `${pct.toFixed(1)}%, ${run.recentlyUpdated ? 'running' : 'stalled (resume: npm run backfill)'}`}, ${run.rowsChanged} rows changed`;
    };
    const parts = [unfinished && describe('unfinished', unfinished), forwardDone && describe('last', forwardDone), reverseDone && describe('last', reverseDone)].filter(Boolean);
    lines.push(`  backfill  ${parts.join('; ') || 'never ran'}`);
  }
  if (state.verify) {
    const { latestDual, latestNewOnly, cleanDualSinceV1 } = state.verify;
    const describe = (v: NonNullable<typeof latestDual>) => `#${v.id} ${v.mode} ${v.startedAt}: ${v.drift === 0 ? 'clean' : `${v.drift} drifted`} (${v.rowsChecked} rows)`;
    const parts = [latestDual && `latest ${describe(latestDual)}`, latestNewOnly && `latest ${describe(latestNewOnly)}`, cleanDualSinceV1 && `clean dual since the last v1: #${cleanDualSinceV1.id}`];
    lines.push(`  verify    ${parts.filter(Boolean).join('; ') || 'never ran'}`);
  }
  if (state.sync) {
    const { mode, recordedAt, triggers } = state.sync;
    lines.push(`  sync      ${mode}${recordedAt ? ` (recorded ${recordedAt})` : ' (the default: none recorded)'}; triggers: up ${triggers.up}, down ${triggers.down}`);
  }
  lines.push(`next: advance  ${describePlan(advance)}`);
  lines.push(`      rollback ${describePlan(rollback)}`);
  for (const event of recentEvents) {
    const what = event.action === 'sync' ? `sync ${event.changes ?? ''} recorded in ${event.fromStage}` : `${event.action} ${event.fromStage} -> ${event.toStage ?? '?'}: ${event.outcome}`;
    lines.push(`  log #${event.id} ${event.at} ${what}${event.detail ? ` (${event.detail})` : ''}`);
  }
  lines.push(...raised);
  return lines.join('\n');
}

export function describePlan(plan: Plan): string {
  switch (plan.kind) {
    case 'flags':
      return `-> ${plan.to.label}: ready (sets ${Object.entries(plan.changes).map(([k, v]) => `${k}=${v}`).join(', ')})`;
    case 'manual':
      return `: not a flag change: ${plan.command}`;
    case 'refused':
      return `-> ${plan.to.label}: blocked: ${plan.reasons.join('; ')}`;
  }
}

