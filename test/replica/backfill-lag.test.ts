// The backfill's replica-lag throttle (gh-ost's --max-lag-millis): while the replica applies nothing, the
// backfill waits and says why; once the replica catches up, it resumes and finishes, and the replica holds
// every filled row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScript } from '../support/scripts.ts';
import { replicaUnavailable, startReplicaSetup, title } from './support.ts';
import type { ReplicaSetup } from './support.ts';

const ROWS = 3000;

describe.skipIf(replicaUnavailable !== null)(title('backfill throttled on replica lag'), () => {
  let setup: ReplicaSetup;

  beforeAll(async () => {
    setup = await startReplicaSetup();
    const values = Array.from({ length: ROWS }, (_, i) => `('lag ${i}', 'lag.${i}@example.test', NOW(3), NOW(3))`).join(', ');
    await setup.primary.run(`INSERT INTO users (name, email, created_at, updated_at) VALUES ${values}`);
    await setup.caughtUp();
  }, 60_000);
  afterAll(async () => {
    await setup?.pair.startReplicaSqlThread().catch(() => {});
    await setup?.stop();
  });

  const missing = async (server: 'primary' | 'replica') => {
    const [row] = await setup[server].select<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE profile_data IS NULL');
    return Number(row!.n);
  };

  it('When the replica lags more than --max-lag-ms, then the backfill waits (saying so) and finishes once the replica catches up', async () => {
    await setup.pair.stopReplicaSqlThread();
    const running = startScript(
      'cli/backfill.ts',
      ['--batch', '100', '--max-lag-ms', '300', '--progress-interval-ms', '100'],
      { DATABASE_URL: setup.database.url, DATABASE_REPLICA_URL: setup.database.replicaUrl! },
      { timeoutMs: 60_000 },
    );
    const throttled = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      running.onStdout((text) => {
        if (/throttled: replica lag/.test(text)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    const missingWhileThrottled = await missing('primary');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const missingHalfASecondLater = await missing('primary');
    await setup.pair.startReplicaSqlThread();
    const result = await running.result;
    await setup.caughtUp();

    expect(throttled).toBe(true);
    expect(missingWhileThrottled).toBeGreaterThan(0);
    expect(missingHalfASecondLater).toBe(missingWhileThrottled);
    expect(result.code).toBe(0);
    expect(await missing('primary')).toBe(0);
    expect(await missing('replica')).toBe(0);
  }, 90_000);
});
