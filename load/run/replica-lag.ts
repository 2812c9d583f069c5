// DB=mysql-replica: replica lag on demand, mid-run. The replica's SQL thread stops (it keeps receiving the
// primary's events but applies none), the load runs on for a few seconds, then it starts again and the demo
// waits for it to catch up. A read that honours its consistency token is served by the primary meanwhile; a
// naive replica read (SCENARIO=replica-reads) returns whatever the replica held when the thread stopped.
import type { ReplicaPair } from '../infra/private-mariadb.ts';

export async function withReplicaLag(pair: ReplicaPair, seconds: number, log: (line: string) => void): Promise<void> {
  await pair.stopReplicaSqlThread();
  const stoppedAt = performance.now();
  log(`replica SQL thread stopped: the replica applies nothing for ${seconds} s`);
  try {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  } finally {
    await pair.startReplicaSqlThread();
  }
  const behind = await pair.primaryGtidPos();
  const caughtUp = await pair.waitForGtid(behind, 30);
  log(`replica SQL thread started after ${Math.round(performance.now() - stoppedAt)} ms; ${caughtUp ? `caught up with ${behind}` : 'NOT caught up within 30 s'}`);
  if (!caughtUp) throw new Error('the replica did not catch up within 30 s after the lag injection');
}

/** Before the final read: the replica has applied everything (a final read through it then sees every write). */
export async function replicaCaughtUp(pair: ReplicaPair): Promise<void> {
  if (!(await pair.waitForGtid(await pair.primaryGtidPos(), 30))) throw new Error('the replica did not catch up within 30 s before the final read');
}
