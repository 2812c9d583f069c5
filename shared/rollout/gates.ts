// The rollout's gates: for each stage, what `advance` and `rollback` would do and what must hold first. Pure
// functions of the facts (state.ts), so `rollout status` can show what blocks the next step, the transition
// can refuse with the same words, and tests can check every gate without a database.
//
// The central rule (what a late v1 writer breaks otherwise): while any writer of the old columns may exist, the old columns
// are the truth. A v1 that updates a row after the backfill passed it leaves profile_data stale; verify finds
// it, a backfill re-run repairs it, and reads may trust profile_data (live) only after a clean dual-mode verify
// that STARTED after the last v1 was gone (its recorded stop, or, killed, when it stopped counting as alive).
import type { BackfillDirection } from '../backfill/batch-statements.ts';
import type { FlagValues } from '../flags/registry.ts';
import { isAfter } from '../db/time.ts';
import { stageGuardRefusal } from './stage-guard.ts';
import { deriveStage, READ_SHIFT_STEPS, stageOf } from './stages.ts';
import type { Stage, StageName } from './stages.ts';
import { RELAX_MIGRATION } from './state.ts';
import type { RolloutState } from './state.ts';
import { lateV1Windows, newOnlyPending, repairHint } from './way-back.ts';
import { columns } from '../schema-mapping.ts';

export type Plan =
  /** A flag change that moves one stage (then wait until every alive instance has loaded it). */
  | { kind: 'flags'; from: Stage; to: Stage; changes: Partial<FlagValues> }
  /** The next step is not a flag: what to run instead (a deploy, the backfill, a migration). */
  | { kind: 'manual'; from: Stage; command: string }
  | { kind: 'refused'; from: Stage; to: Stage; reasons: string[] };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function aliveV1Reason(state: RolloutState): string[] {
  const alive = state.v1.filter((i) => i.alive);
  if (alive.length === 0) return [];
  const list = alive.map((i) => `${i.instanceId} (pid ${i.pid}, ${i.address})`).join(', ');
  return [`${plural(alive.length, 'v1 instance')} alive: ${list}; stop every v1 first (the old columns stay the truth while any v1 may write)`];
}

/**
 * Whether a v1 may write in `stage` under the recorded sync mode, from the one table of stages per version and mode
 * (stage-guard.ts): under SYNC=trigger the database carries its writes into profile_data (and new-only's back to
 * the old columns), so v1 serves through new-only and the gates into live and new-only stop waiting for it.
 */
export function v1ServesIn(state: RolloutState, stage: StageName): boolean {
  return stageGuardRefusal('v1', stageOf(stage), state.sync?.mode) === null;
}

/**
 * v1 instances seen (registered, heartbeat or stop) after reads began trusting profile_data: their writes are
 * invisible to v2. A heartbeat counts, not only a registration: a v1 frozen across the live gate registered
 * long before it, and may have had requests in flight when it resumed.
 */
export function v1SinceLive(state: RolloutState) {
  const since = state.liveSince;
  return since === null ? [] : state.v1.filter((i) => isAfter(i.lastSeen, since));
}

const seenAt = (i: RolloutState['v1'][number]) => `seen at ${i.lastSeen} (registered ${i.startedAt})`;

/** Reads may be shifted (verified against the old columns) once the backfill has filled profile_data. */
export function readShiftReasons(state: RolloutState): string[] {
  if (state.usersEmpty) return [];
  if (!state.backfill || !state.verify) return ['the backfill and verify tables are missing: npm run db:migrate'];
  const done = state.backfill.forwardDone;
  if (!done) return ['no completed backfill: npm run backfill'];
  const verify = state.verify.latestDual;
  if (!verify || !isAfter(verify.startedAt, done.finishedAt)) return [`no dual-mode verify since backfill run #${done.id} finished (${done.finishedAt}): npm run verify`];
  // With a v1 alive, drift is expected (its updates leave profile_data stale) and verified reads fall back for
  // those rows; without one, drift means a bug or a torn write: repair it before sending reads there.
  if (verify.drift > 0 && !state.v1.some((i) => i.alive)) {
    return [`verify #${verify.id} found ${plural(verify.drift, 'drifted row')} and no v1 is alive to explain them: npm run backfill, then npm run verify`];
  }
  return [];
}

/** The latest dual-mode verify is clean and started after the last v1 was gone. */
function cleanVerifyAfterV1Reasons(state: RolloutState): string[] {
  const verify = state.verify?.latestDual ?? null;
  if (!verify) return ['no dual-mode verify on record: npm run verify'];
  if (verify.drift > 0) return [`the latest dual-mode verify (#${verify.id}, ${verify.startedAt}) found ${plural(verify.drift, 'drifted row')}: npm run backfill, then npm run verify`];
  if (!isAfter(verify.startedAt, state.lastV1GoneAt)) {
    return [`the latest clean verify (#${verify.id}, started ${verify.startedAt}) is older than the last v1 (gone ${state.lastV1GoneAt}): a v1 may have written after it; npm run verify`];
  }
  return [];
}

/**
 * v2 instances whose dual-write tears under concurrent PUTs (DUAL_WRITE_STRATEGY=sequential-seed, the common recipe's two
 * statements, as the registry reports it since 006-instance-strategy): profile_data may hold an older write than
 * the old columns, and live would serve it. An instance that registered before 006-instance-strategy was applied reports no strategy.
 */
function tornDualWriteReasons(state: RolloutState): string[] {
  const tearing = state.alive.filter((i) => i.appVersion === 'v2' && i.dualWriteStrategy === 'sequential-seed');
  if (tearing.length === 0) return [];
  const list = tearing.map((i) => `${i.instanceId} (pid ${i.pid}, ${i.address})`).join(', ');
  return [
    `${plural(tearing.length, 'v2 instance')} alive with DUAL_WRITE_STRATEGY=sequential-seed: ${list}; its concurrent PUTs to one user leave ${columns.new} older than the old columns, which live would serve: restart it with single, transaction or sequential, then npm run backfill and npm run verify`,
  ];
}

/** Under SYNC=trigger: the latest dual-mode verify is clean (no v1 can have made drift since: the triggers copy its writes). */
function cleanVerifyReasons(state: RolloutState): string[] {
  const verify = state.verify?.latestDual ?? null;
  if (!verify) return ['no dual-mode verify on record: npm run verify'];
  return verify.drift > 0 ? [`the latest dual-mode verify (#${verify.id}, ${verify.startedAt}) found ${plural(verify.drift, 'drifted row')}: npm run backfill, then npm run verify`] : [];
}

export function liveReasons(state: RolloutState): string[] {
  const percent = state.flags?.values['read-new-percent'] ?? 0;
  if (v1ServesIn(state, 'live')) {
    return [...(percent < 100 ? [`reads are at ${percent}%, not 100%: npm run rollout -- advance`] : []), ...tornDualWriteReasons(state), ...cleanVerifyReasons(state)];
  }
  const v1Alive = aliveV1Reason(state);
  return [
    ...(percent < 100 ? [`reads are at ${percent}%, not 100%: npm run rollout -- advance`] : []),
    ...v1Alive,
    ...tornDualWriteReasons(state),
    ...(v1Alive.length > 0 ? [] : cleanVerifyAfterV1Reasons(state)),
  ];
}

export function newOnlyReasons(state: RolloutState): string[] {
  if (v1ServesIn(state, 'new-only')) {
    return [...(state.migrations.includes(RELAX_MIGRATION) ? [] : [`${RELAX_MIGRATION} is not applied (new-only inserts leave ${columns.old} out): npm run db:migrate`]), ...cleanVerifyReasons(state)];
  }
  const late = v1SinceLive(state);
  const v1Alive = aliveV1Reason(state);
  return [
    ...(state.migrations.includes(RELAX_MIGRATION) ? [] : [`${RELAX_MIGRATION} is not applied (new-only inserts leave ${columns.old} out): npm run db:migrate`]),
    ...v1Alive,
    ...late.map((i) => `v1 instance ${i.instanceId} ${seenAt(i)}, after live began (${state.liveSince}): roll back to read-shift, backfill and verify first`),
    ...(v1Alive.length > 0 ? [] : cleanVerifyAfterV1Reasons(state)),
  ];
}

/**
 * Leaving live: verified reads need correct old columns again, which new-only stopped writing (and a late v1
 * wrote alone): only after the repair (way-back.ts) and a clean dual-mode verify that started after it.
 */
export function leaveLiveReasons(state: RolloutState): string[] {
  if (!newOnlyPending(state)) return [];
  const v1Alive = aliveV1Reason(state);
  if (v1Alive.length > 0) return v1Alive;
  const late = lateV1Windows(state).map((l) => l.instanceId);
  const lateNote = late.length > 0 ? ` and a v1 wrote only the old columns after live began (${late.join(', ')})` : '';
  return [`the old columns were not written in new-only (until ${state.newOnlyEndedAt})${lateNote}: ${repairHint(state)}`];
}

/** Alive instances that have not loaded the current flag set (they may still act on the previous values). */
export function laggingInstances(state: RolloutState) {
  const version = state.flags?.version ?? null;
  return state.alive.filter((i) => version !== null && (i.flagSetVersion ?? -1) < version);
}

export function contractReasons(state: RolloutState): string[] {
  const stage = deriveStage(state);
  if (stage.name === 'contracted') return ['already contracted (099-contract is applied)'];
  const reasons: string[] = [];
  if (stage.name !== 'new-only') reasons.push(`the stage is ${stage.label}: contract runs only in new-only (npm run rollout -- advance)`);
  for (const i of laggingInstances(state)) reasons.push(`${i.appVersion} instance ${i.instanceId} has not loaded flag-set version ${state.flags!.version} yet (it has ${i.flagSetVersion ?? 'none'}): it may still write the old columns`);
  reasons.push(...aliveV1Reason(state));
  if (!state.v1.some((i) => i.alive) && !state.verify?.cleanDualSinceV1) {
    reasons.push(
      state.lastV1GoneAt
        ? `no clean dual-mode verify on record since the last v1 stopped (${state.lastV1GoneAt}): npm run verify -- --mode dual`
        : 'no clean dual-mode verify on record: npm run verify -- --mode dual',
    );
  }
  return reasons;
}

/**
 * Which way a backfill may copy: from the column that holds the newest acknowledged write (way-back.ts). Before
 * live, the old columns; in live, reverse only while new-only's writes are not yet copied back (and forward
 * then only fills missing profile_data); otherwise the way back is a rollback first. In new-only, go back first.
 */
export function backfillReasons(state: RolloutState, direction: BackfillDirection): string[] {
  const stage = deriveStage(state);
  if (!state.migrations.includes('003-backfill-checkpoint')) return ['the backfill checkpoint table is missing: npm run db:migrate'];
  if (stage.name === 'contracted') return ['the old columns are gone (contracted): npm run db:migrate:down re-adds and fills them'];
  if (stage.name === 'new-only') {
    return [`the stage is new-only: v2 writes only ${columns.new}, so neither column stays still; go back first with npm run rollout -- rollback (v2 dual-writes again), then follow npm run rollout -- status`];
  }
  if (stage.name === 'live') {
    if (newOnlyPending(state)) return aliveV1Reason(state);
    return direction === 'forward'
      ? [`the stage is live: reads trust ${columns.new} without comparing; the way back is ${repairHint(state)}`]
      : [`the stage is live and the old columns hold every write since they were last verified (no new-only since): a reverse backfill would overwrite a v1's newer write; the way back is ${repairHint(state)}`];
  }
  if (direction === 'reverse') {
    return [`the stage is ${stage.label}: the old columns are the truth until live; a reverse backfill would overwrite v1's newer writes`];
  }
  return [];
}

/** What `flags set` and PUT /admin/flags may change outside `rollout advance/rollback`. */
export function flagChangeReasons(state: RolloutState, changes: Partial<FlagValues>): string[] {
  const reasons: string[] = [];
  for (const name of ['write-mode', 'read-trust-new'] as const) {
    if (name in changes && changes[name] !== state.flags?.values[name]) {
      reasons.push(`${name} is a rollout stage: use npm run rollout -- advance or rollback (they check the gate and wait until every instance has loaded it)`);
    }
  }
  const percent = changes['read-new-percent'];
  const current = state.flags?.values['read-new-percent'] ?? 0;
  if (percent !== undefined && percent !== current) {
    const stage = deriveStage(state);
    if (stage.name === 'live' || stage.name === 'new-only' || stage.name === 'contracted') {
      reasons.push(`read-new-percent is fixed at 100 from live on (the stage is ${stage.label}): go back with npm run rollout -- rollback`);
    } else if (percent > current) {
      reasons.push(...readShiftReasons(state).map((reason) => `raising read-new-percent skips the read-shift gate: ${reason}`));
    }
  }
  return reasons;
}

/** Stage changes that raise an alarm: a v1 alive (heartbeating, registering) where nobody reads its writes any more. */
export function alarms(state: RolloutState): string[] {
  if (v1ServesIn(state, 'live')) return [];
  return v1SinceLive(state).map(
    (i) =>
      `ALARM: v1 instance ${i.instanceId} (pid ${i.pid}, ${i.address}) ${seenAt(i)}, after reads began trusting ${columns.new} (${state.liveSince})${i.alive ? ' and is alive' : ''}: its writes reach only the old columns, which v2 no longer reads. Stop it, roll back to read-shift (npm run rollout -- rollback), then npm run backfill and npm run verify.`,
  );
}

export function planAdvance(state: RolloutState, { percent }: { percent?: number } = {}): Plan {
  const from = deriveStage(state);
  if (percent !== undefined && from.name !== 'backfill' && from.name !== 'read-shift') {
    return { kind: 'refused', from, to: from, reasons: [`--percent applies to the read shift only (the stage is ${from.label})`] };
  }
  const gate = (to: Stage, reasons: string[], changes: Partial<FlagValues>): Plan => (reasons.length > 0 ? { kind: 'refused', from, to, reasons } : { kind: 'flags', from, to, changes });
  switch (from.name) {
    case 'base':
      return { kind: 'manual', from, command: `npm run db:migrate   (002-expand adds ${columns.new}, instant and online)` };
    case 'expand':
      return { kind: 'manual', from, command: 'npm run start:v2   (deploy v2 beside v1; the stage becomes dual-write once a v2 is alive)' };
    case 'dual-write':
      return gate(stageOf('dual-read'), [], { 'dual-read': true });
    case 'dual-read':
      return { kind: 'manual', from, command: 'npm run backfill   (the stage becomes backfill once it has started)' };
    case 'backfill':
    case 'read-shift': {
      const current = from.percent ?? 0;
      if (current >= 100) return gate(stageOf('live'), liveReasons(state), { 'read-trust-new': true });
      const next = percent ?? READ_SHIFT_STEPS.find((step) => step > current)!;
      if (!Number.isInteger(next) || next <= current || next > 100) {
        return { kind: 'refused', from, to: from, reasons: [`--percent must be above the current ${current} and at most 100 (got ${percent})`] };
      }
      return gate(stageOf('read-shift', next), readShiftReasons(state), { 'read-new-percent': next });
    }
    case 'live':
      return gate(stageOf('new-only'), newOnlyReasons(state), { 'write-mode': 'new-only' });
    case 'new-only': {
      const reasons = contractReasons(state);
      return reasons.length > 0 ? { kind: 'refused', from, to: stageOf('contracted'), reasons } : { kind: 'manual', from, command: `npm run db:contract   (drops ${columns.oldAnd})` };
    }
    case 'contracted':
      return { kind: 'refused', from, to: from, reasons: ['contracted is the last stage'] };
  }
}

export function planRollback(state: RolloutState, { percent }: { percent?: number } = {}): Plan {
  const from = deriveStage(state);
  if (percent !== undefined && from.name !== 'read-shift') {
    return { kind: 'refused', from, to: from, reasons: [`--percent applies to the read shift only (the stage is ${from.label})`] };
  }
  switch (from.name) {
    case 'base':
      return { kind: 'refused', from, to: from, reasons: ['base is the first stage'] };
    case 'expand':
      return { kind: 'manual', from, command: `npm run db:migrate:down   (until 002-expand is reverted; v1 never noticed ${columns.new})` };
    case 'dual-write':
      return { kind: 'manual', from, command: 'stop the v2 instances (SIGTERM) and keep or start v1: v2 kept the old columns right' };
    case 'dual-read':
      return { kind: 'flags', from, to: stageOf('dual-write'), changes: { 'dual-read': false } };
    case 'backfill':
      return {
        kind: 'manual',
        from,
        command: `nothing to undo: the backfill only filled ${columns.new}, which v1 never reads and v2 verifies before use; pause a running one with npm run flags -- set backfill-pause true`,
      };
    case 'read-shift': {
      const current = from.percent!;
      const previous = percent ?? [...READ_SHIFT_STEPS].reverse().find((step) => step < current) ?? 0;
      if (!Number.isInteger(previous) || previous < 0 || previous >= current) {
        return { kind: 'refused', from, to: from, reasons: [`--percent must be below the current ${current} and at least 0 (got ${percent})`] };
      }
      // Always allowed: verified reads fall back to the old columns, so fewer of them can never be wrong.
      return { kind: 'flags', from, to: previous === 0 ? stageOf('backfill') : stageOf('read-shift', previous), changes: { 'read-new-percent': previous } };
    }
    case 'live': {
      const reasons = leaveLiveReasons(state);
      const to = stageOf('read-shift', 100);
      return reasons.length > 0 ? { kind: 'refused', from, to, reasons } : { kind: 'flags', from, to, changes: { 'read-trust-new': false } };
    }
    case 'new-only':
      // v2 dual-writes again at once; reads keep trusting profile_data, which stayed complete.
      return { kind: 'flags', from, to: stageOf('live'), changes: { 'write-mode': 'dual' } };
    case 'contracted':
      return { kind: 'manual', from, command: `npm run db:migrate:down   (re-adds ${columns.oldAnd} and fills them from ${columns.new})` };
  }
}
