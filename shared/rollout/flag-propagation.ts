// "Completes only when every alive instance has it": after a flag change, poll the registry until each alive
// instance (of every version) reports in its heartbeat a flag-set version at least the change's. An instance
// that dies meanwhile drops out of "alive" within 3 heartbeats, so a crash cannot hold a rollout forever;
// a slow one that stays alive is named when the deadline passes.
import type { Database } from '../db/connection.ts';
import { instanceRegistry } from '../registry/instances.ts';
import type { InstanceRow } from '../registry/instances.ts';

export interface FleetWait {
  ok: boolean;
  /** Alive instances still on an older flag-set version when it gave up. */
  lagging: InstanceRow[];
  waitedMs: number;
}

export const DEFAULT_FLEET_TIMEOUT_MS = 30_000;

/** Where a wait stands: reported on every poll while some instance lags, and once more when it ends (done). */
export interface FleetProgress {
  version: number;
  /** Alive instances still on an older flag-set version (empty when the wait ended with every one on it). */
  lagging: InstanceRow[];
  alive: number;
  waitedMs: number;
  done: boolean;
}

export async function waitForFleet(
  db: Database,
  version: number,
  { timeoutMs = DEFAULT_FLEET_TIMEOUT_MS, pollMs = 200, onProgress }: { timeoutMs?: number; pollMs?: number; onProgress?: (progress: FleetProgress) => void } = {},
): Promise<FleetWait> {
  const registry = instanceRegistry(db);
  const started = performance.now();
  let waited = false;
  for (;;) {
    const { alive } = await registry.list({ recent: 0 });
    const lagging = alive.filter((i) => (i.flagSetVersion ?? -1) < version);
    const waitedMs = Math.round(performance.now() - started);
    const done = lagging.length === 0 || waitedMs >= timeoutMs;
    if (lagging.length > 0 || waited) onProgress?.({ version, lagging, alive: alive.length, waitedMs, done });
    if (done) return { ok: lagging.length === 0, lagging, waitedMs };
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

const names = (instances: InstanceRow[]) => instances.map((i) => `${i.appVersion} ${i.instanceId}`).join(', ');

/**
 * What `rollout advance|rollback` prints while it waits for the fleet: one line per wait, with how many instances
 * it waits for, which, and for how long. On a terminal the line is rewritten in place as the wait goes; elsewhere
 * (a log, the demo's output under its step) it is printed once when the wait ends, and every `everyMs` while a
 * long one lasts: a wait of a few hundred ms is one line, not one per instance that catches up.
 */
export function fleetWaitReporter({ prefix, write, tty, everyMs = 5000 }: { prefix: string; write: (text: string) => void; tty: boolean; everyMs?: number }): (progress: FleetProgress) => void {
  let wait: { version: number; first: InstanceRow[]; printedAt: number } | null = null;
  return (progress) => {
    if (!wait || wait.version !== progress.version) wait = { version: progress.version, first: progress.lagging, printedAt: 0 };
    const seconds = (progress.waitedMs / 1000).toFixed(1);
    const of = `of ${progress.alive} alive instances to load flag-set version ${progress.version}`;
    if (progress.done) {
      const line =
        progress.lagging.length === 0
          ? `${prefix}: waited ${seconds} s for ${wait.first.length} ${of} (${names(wait.first)})`
          : `${prefix}: gave up after ${seconds} s waiting for ${progress.lagging.length} ${of} (${names(progress.lagging)})`;
      write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      wait = null;
      return;
    }
    const line = `${prefix}: waiting for ${progress.lagging.length} ${of} (${names(progress.lagging)}): ${seconds} s`;
    if (tty) write(`\r\x1b[K${line}`);
    else if (progress.waitedMs - wait.printedAt >= everyMs) {
      wait.printedAt = progress.waitedMs;
      write(`${line}\n`);
    }
  };
}

export function describeLagging(lagging: InstanceRow[], version: number): string {
  return lagging.map((i) => `${i.appVersion} ${i.instanceId} (pid ${i.pid}, ${i.address}) has flag-set version ${i.flagSetVersion ?? 'none'}, not ${version}`).join('; ');
}
