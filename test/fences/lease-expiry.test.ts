// The lease ends by itself: when its window runs out, the instance closes its public port on a timer, with no
// request needed to notice. A timer may fire a fraction of a millisecond before the moment it was asked for
// (Node rounds the delay to whole milliseconds of its own loop clock); the lease must then look again, not
// stay "held" until a request happens to ask (CI once saw a hung-heartbeat instance keep its port open 10 s).
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Lease } from '../../shared/server/lease.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the lease timer', () => {
  it('When 300 leases are renewed at fractional moments and never again, then every one reports itself lost by its own timer, never before its window ends', async () => {
    const lostAfter: (number | null)[] = [];
    const renewals = Array.from({ length: 300 }, async (_, i) => {
      lostAfter[i] = null;
      const windowMs = 20 + ((i * 37) % 200);
      let until = 0;
      const lease = new Lease(windowMs, (held) => {
        if (!held) lostAfter[i] = performance.now() - until;
      });
      await sleep(i % 50);
      // A heartbeat sent a fraction of a millisecond ago, as a real one is.
      const sentAt = performance.now() - (i % 7) * 0.37;
      until = sentAt + windowMs;
      lease.renew(sentAt);
      expect(lease.isHeld()).toBe(true);
    });
    await Promise.all(renewals);
    // Windows end within 270 ms; a loaded machine may run the timers late, never early.
    for (let waited = 0; lostAfter.includes(null) && waited < 3000; waited += 50) await sleep(50);
    const neverLost = lostAfter.flatMap((late, i) => (late === null ? [i] : []));
    expect(neverLost, 'leases whose timer fired early and never looked again').toEqual([]);
    for (const late of lostAfter) {
      expect(late!).toBeGreaterThanOrEqual(0);
    }
  });

  it('When a lease is renewed before its timer fires, then the loss is reported only at the end of the new window', async () => {
    const changes: { held: boolean; at: number }[] = [];
    const lease = new Lease(60, (held) => changes.push({ held, at: performance.now() }));
    const first = performance.now();
    lease.renew(first);
    await sleep(40);
    const second = performance.now();
    lease.renew(second);
    await sleep(150);
    expect(changes.map((c) => c.held)).toEqual([true, false]);
    expect(changes[1]!.at).toBeGreaterThanOrEqual(second + 60);
  });
});
