// Rollout transitions against a real database: a transition completes only when every alive instance reports
// (in its heartbeat) the flag-set version of the change, so a slow instance holds it (and is named when the
// deadline passes); reads may not trust profile_data (live) while a v1 process is alive, nor until a verify
// that started after the last v1 stopped; a v1 that registers after live raises an alarm; and `flags set` and
// the admin API refuse the changes that would skip the gate.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { FlagSetMoved, writeFlags } from '../../shared/flags/store.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { rolloutEvents } from '../../shared/rollout/events.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { inProcessApp, startInstanceProcess, waitFor } from '../support/instances.ts';
import type { InProcessApp, InstanceProcess } from '../support/instances.ts';
import { runScript } from '../support/scripts.ts';
import { seedV1Users } from '../backfill/seed.ts';
import { backfill, stageLabel, step, verify, walkTo } from './walk.ts';

const targets = await databaseTargets();

describe.each(targets)('rollout transitions on $name', (target) => {
  let database: TestDatabase | undefined;
  let v1: InstanceProcess | undefined;
  let app: InProcessApp | undefined;
  const timers: NodeJS.Timeout[] = [];
  afterEach(async () => {
    timers.forEach(clearInterval);
    await v1?.stop('SIGKILL');
    await app?.close();
    await database?.drop();
    database = v1 = app = undefined;
  });

  /** An instance as the registry sees it, heartbeating every 200 ms the flag-set version the test chooses. */
  async function slowInstance(db: TestDatabase['db'], version: () => number) {
    const registry = instanceRegistry(db);
    const instanceId = unique('slow-v2');
    const rowId = await registry.register({ instanceId, appVersion: 'v2', address: '127.0.0.1:9', pid: 999_999, heartbeatMs: 1000 }, version());
    timers.push(setInterval(() => void registry.heartbeat(rowId, version()).catch(() => {}), 200));
    return instanceId;
  }

  it.skipIf(target.skip)('When an alive instance is slow to load the new flag set, then advance completes only once it reports the version, and names it when the deadline passes', async () => {
    database = await target.create();
    const { db } = database;
    await seedV1Users(db, 50);
    await backfill(db);
    await verify(db);
    let reported = (await storedFlagSet(db))!.version;
    const slow = await slowInstance(db, () => reported);

    let finished = false;
    const advancing = step(db, 'advance', { waitTimeoutMs: 10_000 }).finally(() => (finished = true));
    const written = await waitFor(async () => {
      const version = (await storedFlagSet(db))!.version;
      return version > reported ? version : undefined;
    }, { what: 'the flag change' });
    await waitFor(async () => ((await instanceRegistry(db).list()).alive.some((i) => i.instanceId === slow && i.flagSetVersion === reported) ? true : undefined), { what: 'a heartbeat on the old version' });
    const pendingWhileSlow = !finished;
    reported = written;
    const completed = await advancing;
    const timedOut = await step(db, 'advance', { waitTimeoutMs: 300 });

    expect(pendingWhileSlow).toBe(true);
    expect(completed).toMatchObject({ outcome: 'completed', from: { label: 'backfill' }, to: { label: 'read-shift 1%' }, version: written });
    expect(timedOut).toMatchObject({ outcome: 'timed-out', to: { label: 'read-shift 10%' }, lagging: [{ instanceId: slow, flagSetVersion: written }] });
    const [latest] = await rolloutEvents(db).recent(1);
    expect(latest).toMatchObject({ outcome: 'timed-out', fromStage: 'read-shift 1%', toStage: 'read-shift 10%' });
    expect(latest!.detail).toContain(slow);
  });

  it.skipIf(target.skip)('When a v1 process is alive, then live is refused naming it; once stopped, refused until a verify that started after its stop; then accepted; a v1 registering later raises an alarm', async () => {
    database = await target.create();
    const { db, url } = database;
    await seedV1Users(db, 100);
    await walkTo(db, 'read-shift 100%');
    const v1Id = unique('v1');
    v1 = await startInstanceProcess('v1', { DATABASE_URL: url, INSTANCE_ID: v1Id });

    const whileAlive = await runScript('cli/rollout.ts', ['advance'], { DATABASE_URL: url });
    await v1.stop('SIGTERM');
    const afterStop = await step(db, 'advance');
    await verify(db);
    const afterVerify = await step(db, 'advance');
    await instanceRegistry(db).register({ instanceId: unique('late-v1'), appVersion: 'v1', address: '127.0.0.1:7', pid: 777_777, heartbeatMs: 1000 }, null);
    const status = await runScript('cli/rollout.ts', ['status'], { DATABASE_URL: url });
    const newOnly = await step(db, 'advance');

    expect(whileAlive.code).toBe(1);
    expect(whileAlive.stderr.trim()).toMatch(new RegExp(`^rollout advance: refused \\(read-shift 100% -> live\\): 1 v1 instance alive: ${v1Id} \\(pid ${v1.pid}, `));
    expect(afterStop).toMatchObject({ outcome: 'refused', to: { label: 'live' } });
    expect((afterStop as { reasons: string[] }).reasons[0]).toMatch(/is older than the last v1 \(gone .*\): a v1 may have written after it; npm run verify$/);
    expect(afterVerify).toMatchObject({ outcome: 'completed', to: { label: 'live' } });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^ALARM: v1 instance late-v1-\w+ \(pid 777777, 127\.0\.0\.1:7\) seen at .* \(registered .*\), after reads began trusting profile_data/m);
    expect(newOnly).toMatchObject({ outcome: 'refused', to: { label: 'new-only' } });
    expect(await stageLabel(db)).toBe('live');
  }, 60_000);

  it.skipIf(target.skip)('When another change lands between a gate judging flag-set version N and its write, then the compare-and-set write refuses and the stored flags are the other change', async () => {
    database = await target.create();
    const { db } = database;
    const judged = (await storedFlagSet(db))!.version;
    const other = await writeFlags(db, { 'dual-read': true }, 'test: the other operator');

    const stale = writeFlags(db, { 'read-new-percent': 0, 'dual-read': false }, 'test: the late one', { expectVersion: judged });

    await expect(stale).rejects.toBeInstanceOf(FlagSetMoved);
    await expect(stale).rejects.toThrow(`the flag set moved from version ${judged} to ${other}`);
    const stored = (await storedFlagSet(db))!;
    expect(stored.version).toBe(other);
    expect(stored.values['dual-read']).toBe(true);
    const fresh = await writeFlags(db, { 'dual-read': false }, 'test: re-judged', { expectVersion: other });
    expect(fresh).toBe(other + 1);
    expect((await storedFlagSet(db))!.values['dual-read']).toBe(false);
  });

  it.skipIf(target.skip)('When `flags set` or the admin API tries a stage flag or raises the read shift before the backfill, then it is refused and nothing changes; lowering it is allowed', async () => {
    database = await target.create();
    const { db, url } = database;
    await seedV1Users(db, 20);
    await writeFlags(db, { 'read-new-percent': 10 }, 'test');
    const before = await storedFlagSet(db);
    const flags = (...args: string[]) => runScript('cli/flags.ts', args, { DATABASE_URL: url });
    const token = 'test-admin-token-0123456789';
    app = await inProcessApp('v2', db, { ADMIN_TOKEN: token });

    const [writeMode, raise] = await Promise.all([flags('set', 'write-mode', 'new-only'), flags('set', 'read-new-percent', '20')]);
    const adminRaise = await request(app.app).put('/admin/flags').set('Authorization', `Bearer ${token}`).send({ 'read-new-percent': 20 });
    const unchanged = await storedFlagSet(db);
    const lower = await flags('set', 'read-new-percent', '0');

    expect(writeMode.code).toBe(1);
    expect(writeMode.lines).toEqual(['flags: refused: write-mode is a rollout stage: use npm run rollout -- advance or rollback (they check the gate and wait until every instance has loaded it)']);
    expect(raise.code).toBe(1);
    expect(raise.lines).toEqual(['flags: refused: raising read-new-percent skips the read-shift gate: no completed backfill: npm run backfill']);
    expect(adminRaise.status).toBe(409);
    expect(adminRaise.body.error).toMatchObject({ code: 'rollout_gate', message: 'raising read-new-percent skips the read-shift gate: no completed backfill: npm run backfill' });
    expect(unchanged).toEqual(before);
    expect(lower.code, lower.stderr).toBe(0);
    expect((await storedFlagSet(db))!.values['read-new-percent']).toBe(0);
  }, 60_000);
});
