// What `rollout advance` prints while it waits for every alive instance to load its change: one line per wait
// (how many instances, which, for how long), not a line each time the set of laggards changes. The demo runs the
// command with its output under the step (not a terminal), so step 8's four advances used to bury the evidence
// under "waiting for v2 v2-a (pid …)" lines. Two instances here (registry rows heartbeating from the test) catch
// up one after the other while a real transition waits, printing through the reporter cli/rollout.ts uses (in
// process: a CLI start costs seconds of make test; the demo's output in step 8 shows the command's).
import { afterEach, describe, expect, it } from 'vitest';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { fleetWaitReporter } from '../../shared/rollout/flag-propagation.ts';
import type { FleetProgress } from '../../shared/rollout/flag-propagation.ts';
import type { InstanceRow } from '../../shared/registry/instances.ts';
import { sqliteTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { storedFlagSet } from '../support/flags.ts';
import { transition } from '../../shared/rollout/transitions.ts';

let database: TestDatabase | undefined;
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  timers.forEach(clearInterval);
  await database?.drop();
  database = undefined;
});

describe('rollout advance: waiting for the fleet', () => {
  it('When two instances catch up one after the other, then the command prints one line naming both, with the count and the time waited', { timeout: 30_000 }, async () => {
    database = await sqliteTarget().create({ migrateTo: '006-instance-strategy' });
    const { db } = database;
    const registry = instanceRegistry(db);
    // Both on the flag set before the command (it first waits for a settled fleet), until its change.
    const before = (await storedFlagSet(db))?.version ?? null;
    const reported = new Map<string, number | null>();
    const ids = [unique('v2-a'), unique('v2-b')];
    for (const id of ids) {
      reported.set(id, before);
      const rowId = await registry.register({ instanceId: id, appVersion: 'v2', address: '127.0.0.1:9', pid: 999_999, heartbeatMs: 1000 }, before);
      timers.push(setInterval(() => void registry.heartbeat(rowId, reported.get(id)!).catch(() => {}), 100));
    }
    // Once the command has written its flag set, the first instance loads it 200 ms later, the second 600 ms later.
    let scheduled = false;
    timers.push(
      setInterval(() => {
        void storedFlagSet(db).then((set) => {
          if (!set || set.version === before || scheduled) return;
          scheduled = true;
          setTimeout(() => reported.set(ids[0]!, set.version), 200);
          setTimeout(() => reported.set(ids[1]!, set.version), 600);
        });
      }, 50),
    );

    const printed: string[] = [];
    const result = await transition(db, 'advance', { actor: 'test', onProgress: fleetWaitReporter({ prefix: 'rollout advance', write: (text) => printed.push(text), tty: false }) });

    expect(result).toMatchObject({ outcome: 'completed', from: { label: 'dual-write' }, to: { label: 'dual-read' } });
    const lines = printed.join('').split('\n').filter(Boolean);
    const waits = lines.filter((line) => /wait/.test(line));
    expect(waits, lines.join('\n')).toHaveLength(1);
    expect(waits[0]).toMatch(new RegExp(`^rollout advance: waited \\d+\\.\\d s for 2 of 2 alive instances to load flag-set version \\d+ \\(v2 ${ids[0]}, v2 ${ids[1]}\\)$`));
  });

  it('When a wait lasts, then outside a terminal a line comes every few seconds; on a terminal one line is rewritten in place', () => {
    const row = (instanceId: string) => ({ instanceId, appVersion: 'v2' }) as InstanceRow;
    const progress = (waitedMs: number, lagging: InstanceRow[], done = false): FleetProgress => ({ version: 7, lagging, alive: 3, waitedMs, done });
    const polls = [progress(0, [row('a'), row('b')]), progress(2500, [row('b')]), progress(5000, [row('b')]), progress(9000, [row('b')]), progress(10_100, [row('b')]), progress(10_300, [], true)];

    const logged: string[] = [];
    const log = fleetWaitReporter({ prefix: 'rollout advance', write: (text) => logged.push(text), tty: false });
    polls.forEach(log);
    expect(logged).toEqual([
      'rollout advance: waiting for 1 of 3 alive instances to load flag-set version 7 (v2 b): 5.0 s\n',
      'rollout advance: waiting for 1 of 3 alive instances to load flag-set version 7 (v2 b): 10.1 s\n',
      'rollout advance: waited 10.3 s for 2 of 3 alive instances to load flag-set version 7 (v2 a, v2 b)\n',
    ]);

    const screen: string[] = [];
    const terminal = fleetWaitReporter({ prefix: 'rollout advance', write: (text) => screen.push(text), tty: true });
    polls.forEach(terminal);
    expect(screen.join('').split('\n')).toHaveLength(2);
    expect(screen.every((text) => text.startsWith('\r\x1b[K'))).toBe(true);
    expect(screen.at(-1)).toBe('\r\x1b[Krollout advance: waited 10.3 s for 2 of 3 alive instances to load flag-set version 7 (v2 a, v2 b)\n');
  });
});
