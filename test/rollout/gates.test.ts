// The rollout's gates as pure functions of the facts: every stage transition refused when its precondition
// fails (with the reason) and accepted when it holds, the backfill's direction, what `flags set` may change,
// and the alarm for a v1 that registers after live. The database-backed walks are in the other files here.
import { describe, expect, it } from 'vitest';
import type { BackfillRun } from '../../shared/backfill/checkpoint.ts';
import { defaultFlagValues } from '../../shared/flags/registry.ts';
import type { FlagValues } from '../../shared/flags/registry.ts';
import type { InstanceRow } from '../../shared/registry/instances.ts';
import { alarms, backfillReasons, contractReasons, flagChangeReasons, planAdvance, planRollback } from '../../shared/rollout/gates.ts';
import type { Plan } from '../../shared/rollout/gates.ts';
import { deriveStage } from '../../shared/rollout/stages.ts';
import type { RolloutState, V1Instance } from '../../shared/rollout/state.ts';
import { lateV1Windows, repairHint, repairScope } from '../../shared/rollout/way-back.ts';
import type { VerifyRecord } from '../../shared/verify/results.ts';

const ALL_MIGRATIONS = ['001-base', '002-expand', '003-backfill-checkpoint', '004-verify-results', '005-rollout-log', '006-instance-strategy', '006-lookup-index', '006-string-key-ranges', '007-relax-old-columns'];
const T = (second: number) => `2030-01-01 00:00:${String(second).padStart(2, '0')}.000`;

const v2 = (flagSetVersion = 1): InstanceRow => ({ rowId: 1, instanceId: 'v2-a', appVersion: 'v2', address: '127.0.0.1:1', pid: 11, heartbeatMs: 1000, startedAt: T(0), lastSeen: T(59), stoppedAt: null, flagSetVersion, alive: true });
const v1 = (over: Partial<V1Instance> = {}): V1Instance => ({ instanceId: 'v1-a', address: '127.0.0.1:2', pid: 22, startedAt: T(0), alive: false, goneAt: T(10), lastSeen: over.goneAt ?? over.startedAt ?? T(10), ...over });
const run = (over: Partial<BackfillRun> = {}): BackfillRun => ({ id: 1, direction: 'forward', status: 'done', rangeStart: 1, rangeEnd: 100, nextId: 101, rowsChanged: 100, batches: 1, retries: 0, owner: 'h:1', startedAt: T(11), updatedAt: T(12), finishedAt: T(12), recentlyUpdated: false, ...over });
const verify = (over: Partial<VerifyRecord> = {}): VerifyRecord => ({ id: 1, mode: 'dual', startedAt: T(20), finishedAt: T(21), rangeStart: 1, rangeEnd: 100, rowsChecked: 100, missing: 0, invalid: 0, different: 0, drift: 0, sample: [], ...over });

/** A database after the backfill and a clean verify, one v2 alive on the current flag set, one v1 long gone. */
function state({ flags = {}, ...over }: Partial<Omit<RolloutState, 'flags'>> & { flags?: Partial<FlagValues> } = {}): RolloutState {
  const base: RolloutState = {
    now: T(59),
    migrations: ALL_MIGRATIONS,
    flags: { version: 1, values: { ...defaultFlagValues(), ...flags }, changedAt: {} },
    alive: [v2()],
    v1: [v1()],
    lastV1GoneAt: T(10),
    liveSince: null,
    newOnlyEndedAt: null,
    backfill: { unfinished: null, forwardDone: run(), reverseDone: null },
    verify: { latestDual: verify(), latestNewOnly: null, cleanDualSinceV1: verify() },
    usersEmpty: false,
  };
  return { ...base, ...over };
}

const outcome = (plan: Plan) => (plan.kind === 'flags' ? `-> ${plan.to.label}` : plan.kind === 'manual' ? `run: ${plan.command.split('   ')[0]}` : `refused: ${plan.reasons.join('; ')}`);

describe('stage', () => {
  it.each([
    ['no expand migration', 'base', state({ migrations: ['001-base'], alive: [], backfill: null, verify: null, flags: {} })],
    ['expand, no v2 yet', 'expand', state({ alive: [], backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['a v2 alive', 'dual-write', state({ backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['dual-read on', 'dual-read', state({ flags: { 'dual-read': true }, backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['a forward backfill running', 'backfill', state({ backfill: { unfinished: run({ status: 'running' }), forwardDone: null, reverseDone: null } })],
    ['read-new-percent 25', 'read-shift 25%', state({ flags: { 'read-new-percent': 25 } })],
    ['read-trust-new on', 'live', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true } })],
    ['write-mode new-only', 'new-only', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true, 'write-mode': 'new-only' } })],
    ['099-contract applied', 'contracted', state({ migrations: [...ALL_MIGRATIONS, '099-contract'], flags: { 'write-mode': 'new-only' } })],
  ])('When the facts are: %s, then the stage is %s', (_label, stage, facts) => {
    expect(deriveStage(facts).label).toBe(stage);
  });
});

describe('advance', () => {
  it.each([
    ['expand', 'run: npm run start:v2', state({ alive: [], backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['dual-write', '-> dual-read', state({ backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['dual-read', 'run: npm run backfill', state({ flags: { 'dual-read': true }, backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
    ['backfill, clean verify after it', '-> read-shift 1%', state()],
    ['backfill still running', 'refused: no completed backfill: npm run backfill', state({ backfill: { unfinished: run({ status: 'running' }), forwardDone: null, reverseDone: null } })],
    ['backfill, verify only before it', `refused: no dual-mode verify since backfill run #1 finished (${T(12)}): npm run verify`, state({ verify: { latestDual: verify({ startedAt: T(5) }), latestNewOnly: null, cleanDualSinceV1: null } })],
    ['backfill, drift and no v1', 'refused: verify #1 found 2 drifted rows and no v1 is alive to explain them: npm run backfill, then npm run verify', state({ verify: { latestDual: verify({ drift: 2, different: 2 }), latestNewOnly: null, cleanDualSinceV1: null } })],
    ['backfill, drift while a v1 is alive', '-> read-shift 1%', state({ v1: [v1({ alive: true, goneAt: null })], lastV1GoneAt: null, verify: { latestDual: verify({ drift: 2 }), latestNewOnly: null, cleanDualSinceV1: null } })],
    ['read-shift 10%', '-> read-shift 50%', state({ flags: { 'read-new-percent': 10 } })],
    ['read-shift 100%, clean verify after the last v1', '-> live', state({ flags: { 'read-new-percent': 100 } })],
    ['read-shift 100%, a v1 alive', 'refused: 1 v1 instance alive: v1-a (pid 22, 127.0.0.1:2); stop every v1 first (the old columns stay the truth while any v1 may write)', state({ flags: { 'read-new-percent': 100 }, v1: [v1({ alive: true, goneAt: null })], lastV1GoneAt: null })],
    ['read-shift 100%, verify before the last v1 stopped', `refused: the latest clean verify (#1, started ${T(20)}) is older than the last v1 (gone ${T(30)}): a v1 may have written after it; npm run verify`, state({ flags: { 'read-new-percent': 100 }, lastV1GoneAt: T(30) })],
    ['read-shift 100%, latest verify drifted', `refused: the latest dual-mode verify (#1, ${T(20)}) found 1 drifted row: npm run backfill, then npm run verify`, state({ flags: { 'read-new-percent': 100 }, verify: { latestDual: verify({ drift: 1 }), latestNewOnly: null, cleanDualSinceV1: verify() } })],
    ['live', '-> new-only', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true }, liveSince: T(25) })],
    ['live, no relax migration', 'refused: 007-relax-old-columns is not applied (new-only inserts leave name/email out): npm run db:migrate', state({ migrations: ALL_MIGRATIONS.slice(0, 5), flags: { 'read-new-percent': 100, 'read-trust-new': true }, liveSince: T(25) })],
    ['live, a v1 registered after live (and stopped)', 'refused: v1 instance v1-late seen at 2030-01-01 00:00:31.000 (registered 2030-01-01 00:00:30.000), after live began (2030-01-01 00:00:25.000): roll back to read-shift, backfill and verify first; the latest clean verify (#1, started 2030-01-01 00:00:20.000) is older than the last v1 (gone 2030-01-01 00:00:31.000): a v1 may have written after it; npm run verify', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true }, liveSince: T(25), v1: [v1(), v1({ instanceId: 'v1-late', startedAt: T(30), goneAt: T(31) })], lastV1GoneAt: T(31) })],
    ['new-only, all clear', 'run: npm run db:contract', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true, 'write-mode': 'new-only' } })],
    ['contracted', 'refused: contracted is the last stage', state({ migrations: [...ALL_MIGRATIONS, '099-contract'] })],
  ])('When the stage is %s, then advance: %s', (_label, expected, facts) => {
    expect(outcome(planAdvance(facts))).toBe(expected);
  });

  it('When --percent is given in the read shift, then advance goes to that percentage, and refuses one that is not higher', () => {
    const facts = state({ flags: { 'read-new-percent': 10 } });
    expect(outcome(planAdvance(facts, { percent: 25 }))).toBe('-> read-shift 25%');
    expect(outcome(planAdvance(facts, { percent: 5 }))).toBe('refused: --percent must be above the current 10 and at most 100 (got 5)');
    expect(outcome(planAdvance(state({ flags: { 'read-trust-new': true, 'read-new-percent': 100 } }), { percent: 50 }))).toBe('refused: --percent applies to the read shift only (the stage is live)');
  });
});

describe('rollback', () => {
  it.each([
    ['read-shift 50%', '-> read-shift 10%', state({ flags: { 'read-new-percent': 50 } })],
    ['read-shift 1%', '-> backfill', state({ flags: { 'read-new-percent': 1 } })],
    ['read-shift 1%, even with drift and v1 alive', '-> backfill', state({ flags: { 'read-new-percent': 1 }, v1: [v1({ alive: true })], verify: { latestDual: verify({ drift: 9 }), latestNewOnly: null, cleanDualSinceV1: null } })],
    ['live, never new-only', '-> read-shift 100%', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true } })],
    ['live, back from new-only, no verify since', `refused: the old columns were not written in new-only (until ${T(40)}): npm run backfill -- --reverse, then npm run verify -- --mode dual`, state({ flags: { 'read-new-percent': 100, 'read-trust-new': true }, newOnlyEndedAt: T(40) })],
    ['live, back from new-only, clean verify since', '-> read-shift 100%', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true }, newOnlyEndedAt: T(40), verify: { latestDual: verify({ startedAt: T(45) }), latestNewOnly: null, cleanDualSinceV1: verify() } })],
    ['new-only', '-> live', state({ flags: { 'read-new-percent': 100, 'read-trust-new': true, 'write-mode': 'new-only' } })],
    ['contracted', 'run: npm run db:migrate:down', state({ migrations: [...ALL_MIGRATIONS, '099-contract'] })],
    ['dual-read', '-> dual-write', state({ flags: { 'dual-read': true }, backfill: { unfinished: null, forwardDone: null, reverseDone: null } })],
  ])('When the stage is %s, then rollback: %s', (_label, expected, facts) => {
    expect(outcome(planRollback(facts))).toBe(expected);
  });
});

describe('contract gate', () => {
  const newOnly = { 'read-new-percent': 100, 'read-trust-new': true, 'write-mode': 'new-only' } as const;
  it('When the stage is new-only, no v1 is alive and a clean dual verify since the last v1 is on record, then contract may run', () => {
    expect(contractReasons(state({ flags: newOnly }))).toEqual([]);
  });
  it('When an instance has not loaded write-mode new-only, a v1 is alive, or no clean verify followed the last v1, then contract is refused with each reason', () => {
    expect(contractReasons(state({ flags: newOnly, alive: [v2(0)] }))).toEqual(['v2 instance v2-a has not loaded flag-set version 1 yet (it has 0): it may still write the old columns']);
    expect(contractReasons(state({ flags: newOnly, v1: [v1({ alive: true })], lastV1GoneAt: null }))[0]).toMatch(/^1 v1 instance alive: v1-a/);
    expect(contractReasons(state({ flags: newOnly, lastV1GoneAt: T(30), verify: { latestDual: verify(), latestNewOnly: null, cleanDualSinceV1: null } }))).toEqual([
      `no clean dual-mode verify on record since the last v1 stopped (${T(30)}): npm run verify -- --mode dual`,
    ]);
    expect(contractReasons(state({ flags: { 'read-new-percent': 100, 'read-trust-new': true } }))).toEqual(['the stage is live: contract runs only in new-only (npm run rollout -- advance)']);
  });
});

describe('backfill direction', () => {
  const live = { 'read-new-percent': 100, 'read-trust-new': true } as const;
  const backFromNewOnly = { flags: live, liveSince: T(25), newOnlyEndedAt: T(40) };
  const lateV1 = v1({ instanceId: 'v1-late', startedAt: T(30), goneAt: T(35) });

  it.each([
    ['read-shift 50%', state({ flags: { 'read-new-percent': 50 } }), { forward: null, reverse: /^the stage is read-shift 50%: the old columns are the truth until live/ }],
    // Finding 1: a reverse backfill in live overwrote a v1's acknowledged write (the old columns were the newest).
    ['live, never new-only', state({ flags: live, liveSince: T(25) }), { forward: /^the stage is live: reads trust profile_data without comparing; the way back is npm run rollout -- rollback/, reverse: /^the stage is live and the old columns hold every write .*: a reverse backfill would overwrite a v1's newer write; the way back is npm run rollout -- rollback/ }],
    ['live, never new-only, a late v1 gone', state({ flags: live, liveSince: T(25), v1: [v1(), lateV1], lastV1GoneAt: T(35) }), { forward: /^the stage is live: .*the way back is npm run rollout -- rollback/, reverse: /would overwrite a v1's newer write/ }],
    ['live, back from new-only', state(backFromNewOnly), { forward: null, reverse: null }],
    ['live, back from new-only, a late v1 gone', state({ ...backFromNewOnly, v1: [v1(), lateV1], lastV1GoneAt: T(35) }), { forward: null, reverse: null }],
    ['live, back from new-only, a v1 alive', state({ ...backFromNewOnly, v1: [v1({ alive: true, goneAt: null, startedAt: T(30) })], lastV1GoneAt: null }), { forward: /^1 v1 instance alive/, reverse: /^1 v1 instance alive/ }],
    ['new-only', state({ flags: { ...live, 'write-mode': 'new-only' }, liveSince: T(25) }), { forward: /^the stage is new-only: .*go back first with npm run rollout -- rollback/, reverse: /^the stage is new-only: .*go back first with npm run rollout -- rollback/ }],
    ['contracted', state({ migrations: [...ALL_MIGRATIONS, '099-contract'] }), { forward: /^the old columns are gone/, reverse: /^the old columns are gone \(contracted\): npm run db:migrate:down re-adds and fills them$/ }],
  ])('When the stage is %s, then the backfill directions are judged by which column holds the newest write', (_label, facts, expected) => {
    for (const direction of ['forward', 'reverse'] as const) {
      const reasons = backfillReasons(facts, direction);
      if (expected[direction] === null) expect(reasons, direction).toEqual([]);
      else expect(reasons.join('; '), direction).toMatch(expected[direction]!);
    }
  });

  it('When a late v1 and new-only both wrote after live, then the reverse scope is new-only\'s span up to the gate minus the v1\'s, and forward only fills missing profile_data', () => {
    const facts = state({ ...backFromNewOnly, v1: [v1(), lateV1], lastV1GoneAt: T(35) });

    expect(repairScope(facts, 'reverse')).toEqual({ forwardDifferent: false, profileNewer: { from: T(25), to: T(59) }, lateV1: [{ from: T(30), to: T(35) }] });
    expect(repairScope(facts, 'forward')).toEqual({ forwardDifferent: false, profileNewer: null, lateV1: [{ from: T(30), to: T(35) }] });
    expect(repairScope(state({ flags: { 'read-new-percent': 50 } }), 'forward')).toEqual({ forwardDifferent: true, profileNewer: null, lateV1: [] });
    // Back in read-shift after the way back, a v1's drift found later is repaired forward as before live.
    expect(repairScope(state({ flags: { 'read-new-percent': 100 }, newOnlyEndedAt: T(40), verify: { latestDual: verify({ startedAt: T(50), drift: 1 }), latestNewOnly: null, cleanDualSinceV1: null } }), 'forward')).toMatchObject({ forwardDifferent: true });
  });

  it('When a v1 frozen across the live gate heartbeats again after live, then its window starts when live began and ends when it is gone', () => {
    const frozen = v1({ instanceId: 'v1-frozen', startedAt: T(0), goneAt: T(33) });

    expect(lateV1Windows(state({ flags: live, liveSince: T(25), v1: [frozen], lastV1GoneAt: T(33) }))).toEqual([{ instanceId: 'v1-frozen', window: { from: T(25), to: T(33) } }]);
    expect(lateV1Windows(state({ flags: live, liveSince: T(25), v1: [v1({ goneAt: T(20) })], lastV1GoneAt: T(20) }))).toEqual([]);
  });

  it('When verify or status name the repair at a stage, then the gates accept each command they name, in order', () => {
    const accepted = (facts: RolloutState, hint: string) => {
      const steps = hint.split(/, then |, | and /).map((part) => part.replace(/ \(.*\)$/, '').trim());
      let current = facts;
      for (const part of steps) {
        if (part === 'npm run rollout -- rollback') {
          const plan = planRollback(current);
          expect(plan.kind, `${part} in ${hint}`).toBe('flags');
          if (plan.kind === 'flags') current = { ...current, flags: { ...current.flags!, values: { ...current.flags!.values, ...plan.changes } }, liveSince: null };
        } else if (part === 'npm run backfill -- --reverse') expect(backfillReasons(current, 'reverse'), hint).toEqual([]);
        else if (part.startsWith('npm run backfill')) expect(backfillReasons(current, 'forward'), hint).toEqual([]);
      }
      return steps;
    };
    expect(accepted(state({ flags: { 'read-new-percent': 50 } }), repairHint(state({ flags: { 'read-new-percent': 50 } })))).toContain('npm run backfill repairs it');
    const liveOnly = state({ flags: live, liveSince: T(25), v1: [v1(), lateV1], lastV1GoneAt: T(35) });
    expect(accepted(liveOnly, repairHint(liveOnly)).slice(0, 2)).toEqual(['npm run rollout -- rollback', 'npm run backfill']);
    const mixed = state({ ...backFromNewOnly, v1: [v1(), lateV1], lastV1GoneAt: T(35) });
    expect(accepted(mixed, repairHint(mixed)).slice(0, 2)).toEqual(['npm run backfill -- --reverse', 'npm run backfill']);
    expect(planRollback(mixed)).toMatchObject({ kind: 'refused', reasons: [expect.stringContaining(repairHint(mixed))] });
  });
});

describe('flags set', () => {
  it('When a stage flag is set directly, then it is refused and the rollout command named', () => {
    expect(flagChangeReasons(state(), { 'write-mode': 'new-only' })).toEqual([
      'write-mode is a rollout stage: use npm run rollout -- advance or rollback (they check the gate and wait until every instance has loaded it)',
    ]);
    expect(flagChangeReasons(state(), { 'read-trust-new': true })[0]).toMatch(/^read-trust-new is a rollout stage/);
  });
  it('When read-new-percent is raised before the read-shift gate holds, then it is refused; lowered, it is the instant rollback and allowed', () => {
    const beforeBackfill = state({ flags: { 'read-new-percent': 10 }, backfill: { unfinished: null, forwardDone: null, reverseDone: null } });
    expect(flagChangeReasons(beforeBackfill, { 'read-new-percent': 20 })).toEqual(['raising read-new-percent skips the read-shift gate: no completed backfill: npm run backfill']);
    expect(flagChangeReasons(beforeBackfill, { 'read-new-percent': 0 })).toEqual([]);
    expect(flagChangeReasons(state(), { 'read-new-percent': 20, 'dual-read': true, 'backfill-pause': true })).toEqual([]);
    expect(flagChangeReasons({ ...beforeBackfill, usersEmpty: true }, { 'read-new-percent': 20 })).toEqual([]);
  });
  it('When the stage is live or later, then read-new-percent cannot change outside the rollout', () => {
    expect(flagChangeReasons(state({ flags: { 'read-new-percent': 100, 'read-trust-new': true } }), { 'read-new-percent': 0 })).toEqual([
      'read-new-percent is fixed at 100 from live on (the stage is live): go back with npm run rollout -- rollback',
    ]);
  });
});

describe('alarms', () => {
  it('When a v1 registers after live, then an alarm names it (alive or not); before live there is none', () => {
    const late = v1({ instanceId: 'v1-late', startedAt: T(30), alive: true, goneAt: null });
    expect(alarms(state({ flags: { 'read-trust-new': true }, liveSince: T(25), v1: [v1(), late] }))).toEqual([
      `ALARM: v1 instance v1-late (pid 22, 127.0.0.1:2) seen at ${T(30)} (registered ${T(30)}), after reads began trusting profile_data (${T(25)}) and is alive: its writes reach only the old columns, which v2 no longer reads. Stop it, roll back to read-shift (npm run rollout -- rollback), then npm run backfill and npm run verify.`,
    ]);
    expect(alarms(state({ v1: [v1(), late] }))).toEqual([]);
  });

  it('When a v1 registered before live heartbeats after it, then the alarm names it', () => {
    const frozen = v1({ instanceId: 'v1-frozen', startedAt: T(5), lastSeen: T(40), alive: true, goneAt: null });
    expect(alarms(state({ flags: { 'read-trust-new': true }, liveSince: T(25), v1: [frozen] }))).toEqual([expect.stringMatching(/^ALARM: v1 instance v1-frozen .* seen at 2030-01-01 00:00:40.000 \(registered 2030-01-01 00:00:05.000\), after reads began/)]);
  });
});
