// The live checker (load/observe/live-checker.ts) judges, at each look, a window of each user's operations changed
// since its last look, in batches. It must agree with one check() over the whole history, give every anomaly its
// time, and do the same work per new operation however long the history is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { EXAMPLES_PER_KIND } from '../../load/proof/checker/types.ts';
import { LiveChecker } from '../../load/observe/live-checker.ts';
import type { InitialValue, Op, RecordValue } from '../../load/proof/history.ts';
import { RequestSeries } from '../../load/observe/request-series.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { FIELDS, HistoryBuilder, value } from '../load/histories.ts';

/** What the small generated histories hold besides PUTs and GETs. */
type HistoryOptions = { patches?: boolean; lookups?: boolean };

/**
 * A small history of overlapping operations on seeded users, from a seeded generator: each write takes effect at
 * a point of its interval (or, unanswered, perhaps never), each read returns the value in effect at a point of
 * its own, and about one read in eight returns an earlier value instead (stale, or the initial value). Ids in invocation
 * order, as the recorder gives them.
 */
function overlappingHistory(seed: number, { patches = false, lookups = false }: HistoryOptions = {}): { ops: Op[]; initial: InitialValue[] } {
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const users = 1 + Math.floor(random() * 3);
  const initial = Array.from({ length: users }, (_, i) => ({ key: String(i + 1), value: value(`s${seed}-u${i + 1}-seed`) }));
  const planned: Array<Omit<Op, 'id'> & { effectAt: number | null; pointAt: number }> = [];
  for (let i = 0; i < 20 + Math.floor(random() * 20); i++) {
    const key = String(1 + Math.floor(random() * users));
    const invokeAt = Math.floor(random() * 100);
    const completeAt = invokeAt + 1 + Math.floor(random() * 15);
    const pointAt = invokeAt + random() * (completeAt - invokeAt);
    if (random() < 0.4) {
      const outcome = random() < 0.8 ? 'ok' : random() < 0.5 ? 'info' : 'fail';
      const effectAt = outcome === 'ok' || (outcome === 'info' && random() < 0.5) ? pointAt : null;
      // With patches, half the writes set one field only.
      const patch = patches && random() < 0.5 ? ({ [random() < 0.5 ? 'name' : 'email']: `s${seed}-p${i}` } as RecordValue) : null;
      const written = patch ?? value(`s${seed}-w${i}`);
      planned.push({ process: i, f: patch ? 'patch' : 'write', key, value: written, invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, step: 'load', effectAt, pointAt });
    } else {
      // With lookups, a third of the reads look the row up by an email written to it (GET /users?email=).
      planned.push({ process: i, f: lookups && random() < 0.33 ? 'lookup' : 'read', key, invokeAt, completeAt, outcome: 'ok', step: 'load', effectAt: null, pointAt });
    }
  }
  const writes = planned.filter((op) => op.effectAt !== null).sort((a, b) => a.effectAt! - b.effectAt!);
  for (const read of planned.filter((op) => op.f === 'read' || op.f === 'lookup')) {
    // The row after each write of it that took effect before the read's point (a patch changes its fields only).
    const before = [initial[Number(read.key) - 1]!.value];
    for (const w of writes) if (w.key === read.key && w.effectAt! < read.pointAt) before.push({ ...before.at(-1)!, ...w.value! });
    const seen = random() < 0.125 ? before[Math.floor(random() * before.length)]! : before.at(-1)!;
    if (read.f === 'read') {
      read.value = seen;
      continue;
    }
    // Asked by an email some write of the row (or its seed) set, mostly the last one invoked before the lookup.
    const emails = [initial[Number(read.key) - 1]!.value.email!, ...planned.filter((w) => w.key === read.key && w.f !== 'read' && w.f !== 'lookup' && w.invokeAt < read.invokeAt && w.value?.email !== undefined).map((w) => w.value!.email!)];
    const asked = random() < 0.7 ? emails.at(-1)! : emails[Math.floor(random() * emails.length)]!;
    read.value = { email: asked };
    read.found = seen.email === asked ? [{ key: read.key!, value: seen }] : [];
  }
  const ops = planned.sort((a, b) => a.invokeAt - b.invokeAt).map(({ effectAt: _e, pointAt: _p, ...op }, i) => ({ ...op, id: i + 1 }) as Op);
  return { ops, initial };
}

/**
 * A long correct history with the demo's mix (7 writes to 12 reads) over `users` users, one operation at a time
 * (so every read returns the last write), from a seeded generator: `count` operations after the creates. With
 * `patches`, a third of the writes are PATCHes of one field (the demo's mix patches 2 in 20 operations), so every
 * user is patched early and judged one field at a time from then on. `lookups`: that share of the operations look
 * a user up by its last email (and find it). `records`: each user's values in order (a PUT's whole value, or the
 * value after a PATCH).
 */
function longHistory(users: number, count: number, { patches = false, lookups = 0 }: { patches?: boolean; lookups?: number } = {}): { history: HistoryBuilder; records: Map<number, RecordValue[]> } {
  const history = new HistoryBuilder();
  const records = new Map<number, RecordValue[]>();
  let seed = 29;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let t = 0;
  for (let user = 1; user <= users; user++, t += 2) {
    history.create(user, `u${user}-0`, t, t + 1);
    records.set(user, [value(`u${user}-0`)]);
  }
  for (let i = 1; i <= count; i++, t += 2) {
    const user = 1 + Math.floor(random() * users);
    const list = records.get(user)!;
    const roll = random();
    if (patches && roll < 7 / 19 / 3) {
      const field = random() < 0.5 ? 'name' : 'email';
      const patch = { [field]: `p${user}-${i}` } as RecordValue;
      list.push({ ...list.at(-1)!, ...patch });
      history.patch(user, patch, t, t + 1);
    } else if (roll < 7 / 19) {
      list.push(value(`u${user}-${i}`));
      history.write(user, `u${user}-${i}`, t, t + 1);
    } else if (lookups > 0 && random() < lookups * (19 / 12)) {
      history.lookup(user, list.at(-1)!.email!, [[user, list.at(-1)!]], t, t + 1);
    } else {
      history.read(user, list.at(-1)!, t, t + 1);
    }
  }
  return { history, records };
}

/**
 * Feeds `all` to a live checker in looks of 250 operations up to 1k, then all but the last look, then adds one
 * operation after everything (`late`, given a time after the history's end) and makes the last look: the work of
 * a look per new operation at 1k and at 100k, and the checker.
 */
function watchGrowing(all: Op[], late: (t: number) => Op): { live: LiveChecker; workAt1k: number; workAt100k: number; late: Op } {
  const LOOK = 250;
  const ops: Op[] = [];
  const live = new LiveChecker(fakeRecorder(ops));
  const look = (upTo: number) => {
    const added = upTo - ops.length;
    ops.push(...all.slice(ops.length, upTo));
    live.update();
    return live.lastOpsJudged / added;
  };
  for (let upTo = LOOK; upTo < 1000; upTo += LOOK) look(upTo);
  const workAt1k = look(1000);
  look(all.length - LOOK);
  const op = late(all.at(-1)!.completeAt! + 10);
  return { live, workAt1k, workAt100k: look(all.length), late: op };
}

/** What the live checker reads from a recorder: the operations so far and those still pending. */
function fakeRecorder(ops: Op[], initial: InitialValue[] = [], pending: Op[] = []) {
  return { fields: FIELDS, ops, initial, pending: () => pending };
}

describe('the live checker', () => {
  it('When a long history with stale reads spread over many users is fed in two looks, then it finds what check() finds, each at its read\'s completion', () => {
    const history = new HistoryBuilder();
    const staleUsers = new Set([3, 77, 150, 222, 301, 333, 401, 450, 499, 512, 555, 590, 591, 598, 600]);
    expect(staleUsers.size).toBeGreaterThan(EXAMPLES_PER_KIND);
    const staleReads: Op[] = [];
    for (let user = 1; user <= 600; user++) {
      const t = user * 10;
      history.create(user, `u${user}-a`, t, t + 1);
      history.write(user, `u${user}-b`, t + 2, t + 3);
      const read = history.read(user, staleUsers.has(user) ? `u${user}-a` : `u${user}-b`, t + 4, t + 5);
      if (staleUsers.has(user)) staleReads.push(read);
    }
    const whole = check({ fields: FIELDS, ops: history.ops });
    const ops: Op[] = [];
    const live = new LiveChecker(fakeRecorder(ops));

    ops.push(...history.ops.slice(0, 900));
    live.update();
    ops.push(...history.ops.slice(900));
    live.update();

    expect(whole.byKind.stale).toBe(staleUsers.size);
    expect(live.byKind()).toEqual(whole.byKind);
    expect(live.timeline().map((a) => [a.kind, a.key, a.at])).toEqual(staleReads.map((read) => ['stale', read.key, read.completeAt]));
  });

  it('When a create crashed before its answer and left a half-made row, then the last look finds it as check() does', () => {
    const history = new HistoryBuilder();
    history.create(1, 'whole', 0, 1);
    history.create(null, 'half', 2, null, 'info');
    const snapshots = [
      {
        step: '3-cross-version',
        takenAt: 10,
        v1MayBeAlive: true,
        rows: [
          { key: '1', old: value('whole'), new: value('whole') },
          { key: '2', old: { name: '', email: '' }, new: value('half') },
        ],
      },
    ];
    const live = new LiveChecker(fakeRecorder(history.ops));

    live.update();
    live.finish({ final: [], snapshots });

    const whole = check({ fields: FIELDS, ops: history.ops, snapshots });
    expect(whole.byKind.garbage).toBeGreaterThan(0);
    expect(live.byKind()).toEqual(whole.byKind);
    expect(live.timeline()[0]).toMatchObject({ kind: 'garbage', key: '2', at: 10, step: '3-cross-version' });
  });

  it('When a read is still pending at one look and completes stale before the next, then the next look finds it', () => {
    const history = new HistoryBuilder();
    history.create(1, 'first', 0, 1);
    history.write(1, 'second', 2, 3);
    const read: Op = { id: 99, process: 1, f: 'read', key: '1', invokeAt: 4, completeAt: null, outcome: 'info', step: 'load' };
    const ops = [...history.ops, read];
    const pending = [read];
    const live = new LiveChecker(fakeRecorder(ops, [], pending));

    live.update();
    expect(live.byKind().stale).toBe(0);

    Object.assign(read, { outcome: 'ok', completeAt: 5, value: value('first'), status: 200 });
    pending.length = 0;
    live.update();

    expect(live.byKind().stale).toBe(1);
    expect(live.timeline()).toMatchObject([{ kind: 'stale', key: '1', at: 5 }]);
  });

  it('When phantom rows appear in a snapshot and in the final read beside an unanswered create\'s row, then the last look finds them as check() does', () => {
    const history = new HistoryBuilder();
    history.create(7, 'u7', 0, 1);
    history.create(null, 'lost-answer', 2, null, 'info');
    const row = (key: number, tag: string) => ({ key: String(key), old: value(tag), new: value(tag) });
    const snapshots = [{ step: 'dual-write', takenAt: 10, v1MayBeAlive: true, rows: [row(7, 'u7'), row(8, 'nobody'), row(9, 'lost-answer')] }];
    const final = [{ key: '7', value: value('u7'), at: 20 }, { key: '9', value: value('lost-answer'), at: 20 }, { key: '10', value: value('nobody-either'), at: 20 }];
    const live = new LiveChecker(fakeRecorder(history.ops));

    live.update();
    live.finish({ final, snapshots });

    const whole = check({ fields: FIELDS, ops: history.ops, final, snapshots });
    expect(whole.byKind.phantom).toBe(2);
    expect(live.byKind()).toEqual(whole.byKind);
    expect(live.timeline().map((a) => [a.kind, a.key, a.at, a.step])).toEqual([
      ['phantom', '8', 10, 'dual-write'],
      ['phantom', '10', 20, 'final'],
    ]);
  });

  it('When sessions go back in time in session mode, fed in two looks, then it finds what check() finds, the final read included', () => {
    const history = new HistoryBuilder();
    const S = { process: 1 };
    for (let user = 1; user <= 30; user++) {
      const t = user * 100;
      history.write(user, `u${user}-X`, t, t + 10, 'ok', { process: 2 });
      history.write(user, `u${user}-Y`, t + 1, t + 9, 'ok', { process: 3 });
      history.read(user, `u${user}-X`, t + 11, t + 12, S);
      history.read(user, `u${user}-Y`, t + 13, t + 14, S);
      if (user % 3 === 0) history.read(user, `u${user}-X`, t + 15, t + 16, S);
    }
    const initial = Array.from({ length: 30 }, (_, i) => ({ key: String(i + 1), value: value(`u${i + 1}-seed`) }));
    const final = initial.map(({ key }) => ({ key, value: value(Number(key) % 5 === 0 ? `u${key}-X` : `u${key}-Y`), at: 10_000 }));
    const ops: Op[] = [];
    const live = new LiveChecker(fakeRecorder(ops, initial), 'session');

    ops.push(...history.ops.slice(0, 50));
    live.update();
    ops.push(...history.ops.slice(50));
    live.update();
    live.finish({ final, snapshots: [] });

    const whole = check({ fields: FIELDS, ops: history.ops, initial, final, consistency: 'session' });
    expect(whole.byKind.nonMonotonic).toBe(10 + 6);
    expect(live.byKind()).toEqual(whole.byKind);
  });

  it.each([
    ['', false],
    [', every user PATCHed', true],
  ])('When the history grows from 1k to 100k operations%s, then a look costs the same work per new operation, and a stale read in it is still found', (_, patches) => {
    const { history, records } = longHistory(200, 100_000, { patches });
    const all = history.ops;
    // A read of user 5's previous value after its last write (or patch) completed: stale (in the field that changed).
    const { live, workAt1k, workAt100k, late: staleRead } = watchGrowing(all, (t) => history.read(5, records.get(5)!.at(-2)!, t, t + 1));

    const patched = all.filter((op) => op.f === 'patch').length;
    if (patches) expect(patched).toBeGreaterThan(10_000);
    else expect(patched).toBe(0);
    expect(workAt1k).toBeGreaterThan(0);
    expect(workAt100k).toBeLessThanOrEqual(2 * workAt1k);
    expect(live.byKind()).toMatchObject({ stale: 1, garbage: 0, lost: 0 });
    expect(live.timeline()).toContainEqual(expect.objectContaining({ kind: 'stale', key: '5', at: staleRead.completeAt }));
  });

  it('When lookups are a quarter of a history that grows from 1k to 100k operations, then a look costs the same work per new operation, and a lookup that misses its row is still found', () => {
    for (const patches of [false, true]) {
      const { history, records } = longHistory(200, 100_000, { patches, lookups: 0.25 });
      const all = history.ops;
      // User 5 looked up by the email it holds, after its last write completed: the answer leaves it out.
      const { live, workAt1k, workAt100k, late: missed } = watchGrowing(all, (t) => history.lookup(5, records.get(5)!.at(-1)!.email!, [], t, t + 1));

      expect(all.filter((op) => op.f === 'lookup').length, `patches ${patches}`).toBeGreaterThan(20_000);
      expect(workAt1k).toBeGreaterThan(0);
      expect(workAt100k, `patches ${patches}`).toBeLessThanOrEqual(2 * workAt1k);
      expect(live.byKind(), `patches ${patches}`).toMatchObject({ stale: 1, garbage: 0, lost: 0 });
      expect(live.timeline()).toContainEqual(expect.objectContaining({ kind: 'stale', key: '5', at: missed.completeAt }));
    }
  });

  it.each([
    { label: '', seeds: 300, options: (): HistoryOptions => ({}) },
    { label: ' with PATCHes of one field', seeds: 300, options: (): HistoryOptions => ({ patches: true }) },
    { label: ' with lookups (and PATCHes in every other one)', seeds: 400, options: (seed: number): HistoryOptions => ({ patches: seed % 2 === 0, lookups: true }) },
  ])('When small overlapping histories$label are watched as they happen, then at every look it finds an anomaly exactly when check() of the history so far does, and at the end exactly what check() finds', ({ seeds, options }) => {
    let withAnomalies = 0;
    let missed = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { ops: finalOps, initial } = overlappingHistory(seed, options(seed));
      // As the recorder holds them at time `at`: invoked ones only, those not yet answered pending (no answer, no value).
      const views = finalOps.map((op) => ({ ...op, outcome: 'info' as const, completeAt: null, ...(op.f === 'read' ? { value: undefined } : {}), ...(op.f === 'lookup' ? { found: undefined } : {}) }));
      const ops: Op[] = [];
      const pending = new Set<Op>();
      const live = new LiveChecker({ fields: FIELDS, ops, initial, pending: () => [...pending] });
      for (let at = 0; at <= 130; at += 7) {
        finalOps.forEach((op, i) => {
          const view = views[i]!;
          if (op.invokeAt > at) return;
          if (!ops.includes(view)) {
            ops.push(view);
            pending.add(view);
          }
          if (pending.has(view) && (op.completeAt ?? op.invokeAt + 20) <= at) {
            Object.assign(view, op);
            pending.delete(view);
          }
        });
        live.update();
        const soFar = check({ fields: FIELDS, ops, initial }).anomalies;
        const found = Object.values(live.byKind()).reduce((a, b) => a + b, 0);
        expect(found > 0, `seed ${seed}, look at ${at}: check() finds ${soFar}, the live checker ${found}`).toBe(soFar > 0);
      }
      live.finish({ final: [], snapshots: [] });
      const whole = check({ fields: FIELDS, ops: finalOps, initial });
      expect(live.byKind(), `seed ${seed}`).toEqual(whole.byKind);
      if (whole.anomalies > 0) withAnomalies++;
      missed += whole.examples.stale.filter((example) => example.reason?.startsWith('missed by a lookup')).length;
    }
    // Both answers are common, so the comparison above means something (and, with lookups, misses are among them).
    expect(withAnomalies).toBeGreaterThan(50);
    expect(withAnomalies).toBeLessThan(seeds - 50);
    if (options(2).lookups) expect(missed).toBeGreaterThan(10);
  });

  it('When a long history runs through a bounded recorder and checker (the sandbox), then memory stays bounded, the file has every operation, and a late stale read is still found', async () => {
    const USERS = 20;
    const COUNT = 20_000;
    const KEEP_OPS = 2000;
    const KEEP_PER_USER = 50;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bounded-history-'));
    let now = 0;
    const recorder = new HistoryRecorder({ fields: FIELDS, file: path.join(dir, 'history.jsonl'), step: 'sandbox', clock: () => now, keepOps: KEEP_OPS });
    const live = new LiveChecker(recorder, undefined, KEEP_PER_USER);
    const values = new Map<number, RecordValue[]>();
    const tag = (userId: number, i: number) => value(`u${userId}-${i}`);
    recorder.recordInitial(Array.from({ length: USERS }, (_, i) => ({ key: String(i + 1), value: tag(i + 1, 0) })));
    for (let userId = 1; userId <= USERS; userId++) values.set(userId, [tag(userId, 0)]);
    const run = (f: 'write' | 'read', userId: number, written: RecordValue, read: RecordValue = written) => {
      const op = recorder.invoke({ process: 0, f, key: String(userId), ...(f === 'write' ? { value: written } : {}) });
      return () => recorder.complete(op, { outcome: 'ok', status: 200, ...(f === 'read' ? { value: read } : {}) });
    };
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let maxRing = 0;
    let maxHeld = 0;
    for (let i = 1; recorder.recorded < COUNT; i++) {
      const userId = 1 + Math.floor(random() * USERS);
      const seen = values.get(userId)!;
      if (i % 40 === 0) {
        // Two overlapping writes, then a read of the one that started last: legal either way, and no clean cut
        // falls between them.
        const [a, b] = [tag(userId, i), tag(userId, i + 0.5)];
        now += 1;
        const first = run('write', userId, a);
        now += 1;
        const second = run('write', userId, b);
        now += 1;
        second();
        now += 1;
        first();
        seen.push(a, b);
      } else if (random() < 7 / 19) {
        seen.push(tag(userId, i));
        now += 1;
        const done = run('write', userId, seen.at(-1)!);
        now += 1;
        done();
      } else {
        now += 1;
        const done = run('read', userId, seen.at(-1)!, seen.at(-1)!);
        now += 1;
        done();
      }
      if (i % 500 === 0) {
        live.update();
        maxRing = Math.max(maxRing, recorder.ops.length);
        maxHeld = Math.max(maxHeld, live.heldOps());
      }
    }
    live.update();
    expect(live.byKind()).toMatchObject({ stale: 0, garbage: 0, nonMonotonic: 0 });

    // A read of user 3's previous value after two writes one after the other: stale, found among the kept
    // operations. A read of its first value, long before the cut: still flagged, as a value the kept history never
    // wrote (garbage).
    const user3 = values.get(3)!;
    for (const written of [tag(3, COUNT + 1), tag(3, COUNT + 2)]) {
      now += 1;
      const done = run('write', 3, written);
      now += 1;
      done();
    }
    now += 1;
    run('read', 3, tag(3, COUNT + 1), tag(3, COUNT + 1))();
    now += 1;
    run('read', 3, user3[1]!, user3[1]!)();
    live.update();
    await recorder.close();
    const invokes = fs.readFileSync(path.join(dir, 'history.jsonl'), 'utf8').split('\n').filter((line) => line.startsWith('{"type":"invoke"')).length;
    fs.rmSync(dir, { recursive: true, force: true });

    expect(maxRing).toBeLessThanOrEqual(KEEP_OPS * 1.25);
    expect(maxHeld).toBeLessThanOrEqual(USERS * KEEP_PER_USER * 1.5 + 500);
    expect(recorder.dropped).toBeGreaterThan(COUNT - 2 * KEEP_OPS);
    expect(invokes).toBe(recorder.recorded);
    expect(live.byKind()).toMatchObject({ stale: 1, garbage: 1, nonMonotonic: 0 });
    expect(live.timeline().every((a) => a.key === '3')).toBe(true);
  });

  it('When the seconds behind a long run are summed up (the sandbox), then every second shows the same figures as before, and a late error still counts', () => {
    const series = new RequestSeries(0);
    const whole = new RequestSeries(0);
    let id = 0;
    const op = (second: number, i: number, outcome: Op['outcome']): Op => ({
      id: ++id,
      process: 0,
      f: i % 3 === 0 ? 'write' : 'read',
      key: '1',
      invokeAt: second * 1000 + i * 10,
      completeAt: outcome === 'info' ? null : second * 1000 + i * 10 + 1 + (i % 7),
      outcome,
      step: 'sandbox',
      version: i % 2 ? 'v1' : 'v2',
      ...(i % 4 === 1 ? { readSource: 'old' } : {}),
    });
    for (let second = 0; second < 300; second++) {
      for (let i = 0; i < 20; i++) {
        const o = op(second, i, i === 13 ? 'fail' : 'ok');
        series.add(o);
        whole.add(o);
      }
      series.compact(second - 10);
    }
    // A write of unknown outcome, sent in second 5 and given up on now.
    const late = op(5, 19, 'info');
    series.add(late);
    whole.add(late);
    expect(series.lastSecond()).toBe(299);
    for (let second = 0; second < 300; second++) expect(series.figures(second), `second ${second}`).toEqual(whole.figures(second));
  });
});
