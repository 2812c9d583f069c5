// `npm run db:migrate:down` is gated like db:contract (issue 15, finding 4): each step refuses, naming the stage,
// where reverting it would break the running versions or drop the only copy of data. The documented way back
// from a contract is one `down` (099 re-adds and refills the old columns, the stage is new-only again); one
// `down` too many must not start the slide (007 restores NOT NULL under v2's new-only inserts, 005 drops the log
// the gates read, ...). The pure table is first, then the real command on SQLite and MariaDB.
import { describe, expect, it } from 'vitest';
import { defaultFlagValues } from '../../shared/flags/registry.ts';
import type { FlagValues } from '../../shared/flags/registry.ts';
import { appliedMigrationNames } from '../../shared/migrations/applied.ts';
import { createMigrator } from '../../shared/migrations/runner.ts';
import type { InstanceRow } from '../../shared/registry/instances.ts';
import { planRollback } from '../../shared/rollout/gates.ts';
import { migrateDownReasons } from '../../shared/rollout/migrate-down-gate.ts';
import type { RolloutState } from '../../shared/rollout/state.ts';
import { databaseTargets } from '../support/databases.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { stageLabel, walkTo } from './walk.ts';

const T = (second: number) => `2030-01-01 00:00:${String(second).padStart(2, '0')}.000`;
const ALL = ['001-base', '002-expand', '003-backfill-checkpoint', '004-verify-results', '005-rollout-log', '006-instance-strategy', '006-lookup-index', '006-string-key-ranges', '007-relax-old-columns'];
const v2: InstanceRow = { rowId: 1, instanceId: 'v2-a', appVersion: 'v2', address: '127.0.0.1:1', pid: 11, heartbeatMs: 1000, startedAt: T(0), lastSeen: T(59), stoppedAt: null, flagSetVersion: 1, alive: true };

function state(migrations: string[], flags: Partial<FlagValues> = {}, over: Partial<RolloutState> = {}): RolloutState {
  return {
    now: T(59),
    migrations,
    flags: migrations.includes('002-expand') ? { version: 1, values: { ...defaultFlagValues(), ...flags }, changedAt: {} } : null,
    alive: [],
    v1: [],
    lastV1GoneAt: null,
    liveSince: null,
    newOnlyEndedAt: null,
    backfill: migrations.includes('003-backfill-checkpoint') ? { unfinished: null, forwardDone: null, reverseDone: null } : null,
    verify: migrations.includes('004-verify-results') ? { latestDual: null, latestNewOnly: null, cleanDualSinceV1: null } : null,
    usersEmpty: false,
    ...over,
  };
}

const newOnly = { 'read-new-percent': 100, 'read-trust-new': true, 'write-mode': 'new-only' } as const;

describe('the migrate:down gate', () => {
  it.each([
    ['099-contract, contracted', state([...ALL, '099-contract'], newOnly), null],
    ['006-string-key-ranges, new-only', state(ALL.slice(0, -1), newOnly), /^the stage is new-only: reverting 006-string-key-ranges drops the key ranges of backfill runs and verifies over string keys: roll back to backfill or earlier first/],
    ['006-string-key-ranges, backfill stage', state(ALL.slice(0, -1)), null],
    ['007, new-only', state(ALL, newOnly), /^the stage is new-only: reverting 007-relax-old-columns restores NOT NULL on name\/email, and v2's new-only inserts leave them out: npm run rollout -- rollback first/],
    ['007, live with an instance not yet on the flag set', state(ALL, { 'read-new-percent': 100, 'read-trust-new': true }, { alive: [{ ...v2, flagSetVersion: 0 }] }), /^the stage is live: v2 instance v2-a has not loaded flag-set version 1/],
    ['007, live after the way back', state(ALL, { 'read-new-percent': 100, 'read-trust-new': true }, { alive: [v2] }), null],
    ['006, a v2 alive', state(ALL.slice(0, 6), {}, { alive: [v2] }), /^the stage is dual-write: reverting 006-instance-strategy drops the dual-write strategy the live gate reads from 1 alive v2 instance \(v2-a\): stop every v2 first/],
    ['006, no v2 alive', state(ALL.slice(0, 6)), null],
    ['005, read-shift', state(ALL.slice(0, 5), { 'read-new-percent': 10 }), /^the stage is read-shift 10%: reverting 005-rollout-log drops the rollout log the gates read \(when new-only ended\): roll back to backfill or earlier first/],
    ['004, live', state(ALL.slice(0, 4), { 'read-new-percent': 100, 'read-trust-new': true }), /^the stage is live: reverting 004-verify-results drops the verify history the gates read/],
    ['003, a backfill running', state(ALL.slice(0, 3), {}, { backfill: { unfinished: { id: 3, direction: 'forward', status: 'running', rangeStart: 1, rangeEnd: 9, nextId: 4, rowsChanged: 3, batches: 1, retries: 0, owner: 'h:1', startedAt: T(1), updatedAt: T(58), finishedAt: null, recentlyUpdated: true }, forwardDone: null, reverseDone: null } }), /^the stage is backfill: backfill run #3 is running/],
    ['005, backfill stage', state(ALL.slice(0, 5)), null],
    ['002, a v2 alive', state(ALL.slice(0, 2), {}, { alive: [v2] }), /^the stage is dual-write: reverting 002-expand drops profile_data, which 1 alive v2 instance writes \(v2-a\): stop every v2 first/],
    ['002, dual-read on', state(ALL.slice(0, 2), { 'dual-read': true }), /^the stage is dual-read: reverting 002-expand/],
    ['002, expand', state(ALL.slice(0, 2)), null],
    ['001, rows in users', state(['001-base']), /^the stage is base: reverting 001-base drops users \(it holds rows\)/],
    ['001, empty', state(['001-base'], {}, { usersEmpty: true }), null],
  ])('When the last migration is %s, then db:migrate:down is judged', (_label, facts, expected) => {
    const reasons = migrateDownReasons(facts, facts.migrations.at(-1)!);
    if (expected === null) expect(reasons).toEqual([]);
    else expect(reasons.join('; ')).toMatch(expected);
  });
});

describe('the migrate:down gate and status', () => {
  it('When status says the way back from expand is db:migrate:down until 002-expand is reverted, then the gate accepts each of those steps there', () => {
    const steps = [...ALL].reverse().slice(0, -1);
    for (const [index, migration] of steps.entries()) {
      const facts = state(ALL.slice(0, ALL.length - index));
      expect(planRollback(facts)).toMatchObject({ kind: 'manual', command: expect.stringMatching(/^npm run db:migrate:down/) });
      expect(migrateDownReasons(facts, migration), migration).toEqual([]);
    }
  });
});

const targets = await databaseTargets();

describe.each(targets)('db:migrate:down after a contract on $name', (target) => {
  it.skipIf(target.skip)('When the contract is undone with one down, then the next down is refused with one line naming new-only and 007, and nothing more is reverted', async () => {
    const database = await target.create();
    try {
      const { db, url } = database;
      await seedV1Users(db, 20);
      await walkTo(db, 'new-only');
      await createMigrator(db).up({ migrations: ['099-contract'] });

      const undo = await runScript('cli/db-migrate.ts', ['down'], { DATABASE_URL: url }, { timeoutMs: 60_000 });
      const stage = await stageLabel(db);
      const tooFar = await runScript('cli/db-migrate.ts', ['down'], { DATABASE_URL: url }, { timeoutMs: 60_000 });

      expect(undo.code, undo.stderr).toBe(0);
      expect(undo.stdout).toContain('reverted 099-contract');
      expect(stage).toBe('new-only');
      expect(tooFar.code).toBe(1);
      expect(tooFar.lines).toEqual([expect.stringMatching(/^db:migrate: refused: the stage is new-only: reverting 007-relax-old-columns restores NOT NULL on name\/email/)]);
      expect(await appliedMigrationNames(db)).toEqual(ALL);
    } finally {
      await database.drop();
    }
  }, 120_000);
});
