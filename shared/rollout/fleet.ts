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

export async function waitForFleet(
  db: Database,
  version: number,
  { timeoutMs = DEFAULT_FLEET_TIMEOUT_MS, pollMs = 200, onWaiting }: { timeoutMs?: number; pollMs?: number; onWaiting?: (lagging: InstanceRow[]) => void } = {},
): Promise<FleetWait> {
  const registry = instanceRegistry(db);
  const started = performance.now();
  let reported = '';
  for (;;) {
    const { alive } = await registry.list({ recent: 0 });
    const lagging = alive.filter((i) => (i.flagSetVersion ?? -1) < version);
    const waitedMs = Math.round(performance.now() - started);
    if (lagging.length === 0) return { ok: true, lagging, waitedMs };
    if (waitedMs >= timeoutMs) return { ok: false, lagging, waitedMs };
    const names = lagging.map((i) => i.instanceId).join(',');
    if (names !== reported) {
      reported = names;
      onWaiting?.(lagging);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function describeLagging(lagging: InstanceRow[], version: number): string {
  return lagging.map((i) => `${i.appVersion} ${i.instanceId} (pid ${i.pid}, ${i.address}) has flag-set version ${i.flagSetVersion ?? 'none'}, not ${version}`).join('; ');
}
