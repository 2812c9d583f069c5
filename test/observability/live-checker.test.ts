// The live checker (load/demo/live-checker.ts) re-judges only the users whose operations changed since its last
// look, in batches. It must agree with one check() over the whole history, and give every anomaly its time.
import { describe, expect, it } from 'vitest';
import { check } from '../../load/checker/index.ts';
import { EXAMPLES_PER_KIND } from '../../load/checker/types.ts';
import { LiveChecker } from '../../load/demo/live-checker.ts';
import type { InitialValue, Op } from '../../load/history.ts';
import { HistoryBuilder, value } from '../load/histories.ts';

/** What the live checker reads from a recorder: the operations so far and those still pending. */
function fakeRecorder(ops: Op[], initial: InitialValue[] = [], pending: Op[] = []) {
  return { ops, initial, pending: () => pending };
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
    const whole = check({ ops: history.ops });
    const ops: Op[] = [];
    const live = new LiveChecker(fakeRecorder(ops));

    ops.push(...history.ops.slice(0, 900));
    live.update();
    ops.push(...history.ops.slice(900));
    live.update();

    expect(whole.byKind.stale).toBe(staleUsers.size);
    expect(live.byKind()).toEqual(whole.byKind);
    expect(live.timeline().map((a) => [a.kind, a.userId, a.at])).toEqual(staleReads.map((read) => ['stale', read.userId, read.completeAt]));
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
          { id: 1, name: 'whole', email: 'whole@example.test', profileData: JSON.stringify(value('whole')) },
          { id: 2, name: '', email: '', profileData: JSON.stringify(value('half')) },
        ],
      },
    ];
    const live = new LiveChecker(fakeRecorder(history.ops));

    live.update();
    live.finish({ final: [], snapshots });

    const whole = check({ ops: history.ops, snapshots });
    expect(whole.byKind.garbage).toBeGreaterThan(0);
    expect(live.byKind()).toEqual(whole.byKind);
    expect(live.timeline()[0]).toMatchObject({ kind: 'garbage', userId: 2, at: 10, step: '3-cross-version' });
  });

  it('When a read is still pending at one look and completes stale before the next, then the next look finds it', () => {
    const history = new HistoryBuilder();
    history.create(1, 'first', 0, 1);
    history.write(1, 'second', 2, 3);
    const read: Op = { id: 99, process: 1, f: 'read', userId: 1, invokeAt: 4, completeAt: null, outcome: 'info', step: 'load' };
    const ops = [...history.ops, read];
    const pending = [read];
    const live = new LiveChecker(fakeRecorder(ops, [], pending));

    live.update();
    expect(live.byKind().stale).toBe(0);

    Object.assign(read, { outcome: 'ok', completeAt: 5, value: value('first'), status: 200 });
    pending.length = 0;
    live.update();

    expect(live.byKind().stale).toBe(1);
    expect(live.timeline()).toMatchObject([{ kind: 'stale', userId: 1, at: 5 }]);
  });
});
