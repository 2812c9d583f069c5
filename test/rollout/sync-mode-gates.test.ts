// What the stage machine relaxes under SYNC=trigger, as pure functions of the facts: the one table of stages per
// (version, mode) lets v1 serve through new-only; the gates into live and new-only stop waiting for the last v1
// (the triggers carry its writes) but still want a clean verify; a v1 seen after live raises no alarm; the
// contract still waits for the last v1. Under SYNC=app (and with no mode recorded) nothing changes.
import { describe, expect, it } from 'vitest';
import { defaultFlagValues } from '../../shared/flags/registry.ts';
import type { FlagValues } from '../../shared/flags/registry.ts';
import { alarms, contractReasons, planAdvance } from '../../shared/rollout/gates.ts';
import { stageGuardRefusal } from '../../shared/rollout/stage-guard.ts';
import { stageOf } from '../../shared/rollout/stages.ts';
import type { RolloutState } from '../../shared/rollout/state.ts';
import type { SyncMode } from '../../shared/sync/mode.ts';

const T = (second: number) => `2030-01-01 00:00:${String(second).padStart(2, '0')}.000`;
const MIGRATIONS = ['001-base', '002-expand', '003-backfill-checkpoint', '004-verify-results', '005-rollout-log', '006-instance-strategy', '006-lookup-index', '006-string-key-ranges', '007-relax-old-columns'];

/** Backfilled and verified clean (drift as given), one v2 and one v1 alive, the v1 seen at second 40. */
function state(mode: SyncMode | null, flags: Partial<FlagValues>, { drift = 0, liveSince = null as string | null } = {}): RolloutState {
  const verify = { id: 1, mode: 'dual' as const, startedAt: T(20), finishedAt: T(21), rangeStart: 1, rangeEnd: 100, rowsChecked: 100, missing: 0, invalid: 0, different: drift, drift, sample: [] };
  return {
    now: T(59),
    migrations: MIGRATIONS,
    flags: { version: 1, values: { ...defaultFlagValues(), ...flags }, changedAt: {} },
    alive: [
      { rowId: 1, instanceId: 'v2-a', appVersion: 'v2', address: '127.0.0.1:1', pid: 11, heartbeatMs: 1000, startedAt: T(0), lastSeen: T(59), stoppedAt: null, flagSetVersion: 1, alive: true },
      { rowId: 2, instanceId: 'v1-a', appVersion: 'v1', address: '127.0.0.1:2', pid: 22, heartbeatMs: 1000, startedAt: T(0), lastSeen: T(40), stoppedAt: null, flagSetVersion: 1, alive: true },
    ],
    v1: [{ instanceId: 'v1-a', address: '127.0.0.1:2', pid: 22, startedAt: T(0), lastSeen: T(40), alive: true, goneAt: null }],
    lastV1GoneAt: null,
    liveSince,
    newOnlyEndedAt: null,
    backfill: { unfinished: null, forwardDone: { id: 1, direction: 'forward', status: 'done', rangeStart: 1, rangeEnd: 100, nextId: 101, rowsChanged: 100, batches: 1, retries: 0, owner: 'h:1', startedAt: T(11), updatedAt: T(12), finishedAt: T(12), recentlyUpdated: false }, reverseDone: null },
    verify: { latestDual: verify, latestNewOnly: null, cleanDualSinceV1: null },
    usersEmpty: false,
    ...(mode === null ? {} : { sync: { mode, recordedAt: T(1), triggers: { up: 'installed', down: mode === 'trigger' ? 'installed' : 'absent' } } }),
  };
}

const readShift100 = { 'read-new-percent': 100 };
const live = { ...readShift100, 'read-trust-new': true };
const newOnly = { ...live, 'write-mode': 'new-only' as const };

describe('the stage machine under SYNC=trigger', () => {
  it('When the mode is trigger, then v1 serves through new-only and not contracted; under app (or none recorded) only through read-shift', () => {
    const served = (mode: SyncMode | undefined) => (['read-shift', 'live', 'new-only', 'contracted'] as const).map((stage) => stageGuardRefusal('v1', stageOf(stage, stage === 'read-shift' ? 100 : undefined), mode) === null);

    expect(served('trigger')).toEqual([true, true, true, false]);
    expect(served('app')).toEqual([true, false, false, false]);
    expect(served(undefined)).toEqual([true, false, false, false]);
    expect(stageGuardRefusal('v2', stageOf('contracted'), 'trigger')).toBeNull();
  });

  it('When a v1 is alive at read-shift 100%, then live is accepted under trigger, refused under app and with no mode recorded', () => {
    expect(planAdvance(state('trigger', readShift100))).toMatchObject({ kind: 'flags', to: { label: 'live' } });
    expect(planAdvance(state('app', readShift100))).toMatchObject({ kind: 'refused', reasons: [expect.stringMatching(/^1 v1 instance alive: v1-a/)] });
    expect(planAdvance(state(null, readShift100))).toMatchObject({ kind: 'refused', reasons: [expect.stringMatching(/^1 v1 instance alive: v1-a/)] });
  });

  it('When the latest verify found drift under trigger, then live and new-only are still refused naming it', () => {
    expect(planAdvance(state('trigger', readShift100, { drift: 2 }))).toMatchObject({ kind: 'refused', reasons: [expect.stringMatching(/found 2 drifted rows: npm run backfill, then npm run verify$/)] });
    expect(planAdvance(state('trigger', live, { drift: 2, liveSince: T(30) }))).toMatchObject({ kind: 'refused', to: { label: 'new-only' } });
  });

  it('When a v1 is seen after live began, then under trigger new-only is accepted and no alarm is raised; under app both hold it', () => {
    expect(planAdvance(state('trigger', live, { liveSince: T(30) }))).toMatchObject({ kind: 'flags', to: { label: 'new-only' } });
    expect(alarms(state('trigger', live, { liveSince: T(30) }))).toEqual([]);
    expect(planAdvance(state('app', live, { liveSince: T(30) }))).toMatchObject({ kind: 'refused', to: { label: 'new-only' } });
    expect(alarms(state('app', live, { liveSince: T(30) }))).toEqual([expect.stringMatching(/^ALARM: v1 instance v1-a/)]);
  });

  it('When a v1 is alive in new-only under trigger, then the contract still waits for it', () => {
    expect(contractReasons(state('trigger', newOnly, { liveSince: T(30) }))).toEqual(expect.arrayContaining([expect.stringMatching(/^1 v1 instance alive: v1-a/)]));
    expect(planAdvance(state('trigger', newOnly, { liveSince: T(30) }))).toMatchObject({ kind: 'refused', to: { label: 'contracted' } });
  });
});
