// npm run verify -- --replica: drift counted on the replica, only after it has applied everything the primary
// had committed when verify began (so a lagging replica cannot make a verify look clean).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScript } from '../support/scripts.ts';
import { unique } from '../support/databases.ts';
import { replicaUnavailable, startReplicaSetup, title } from './support.ts';
import type { ReplicaSetup } from './support.ts';

describe.skipIf(replicaUnavailable !== null)(title('verify --replica'), () => {
  let setup: ReplicaSetup;

  beforeAll(async () => {
    setup = await startReplicaSetup();
  }, 60_000);
  afterAll(async () => {
    await setup?.pair.startReplicaSqlThread().catch(() => {});
    await setup?.stop();
  });

  it('When drift is written while the replica lags, then verify --replica waits for the replica and reports that drift', async () => {
    const name = unique('drift');
    await setup.pair.stopReplicaSqlThread();
    // An old-columns-only row: profile_data missing, the drift verify counts.
    const id = await setup.primary.insert("INSERT INTO users (name, email, created_at, updated_at) VALUES ($1, 'drift@example.test', NOW(3), NOW(3))", [name]);
    const [onReplicaBefore] = await setup.replica.select<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE id = $1', [id]);

    const running = startScript('cli/verify.ts', ['--replica', '--mode', 'dual'], { DATABASE_URL: setup.database.url, DATABASE_REPLICA_URL: setup.database.replicaUrl! }, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await setup.pair.startReplicaSqlThread();
    const result = await running.result;

    expect(Number(onReplicaBefore!.n)).toBe(0);
    expect(result.stdout).toMatch(/the replica caught up with \d+-\d+-\d+/);
    expect(result.stdout).toMatch(/drift: 1 rows \(missing 1/);
    expect(result.stdout).toContain(`id ${id}: missing`);
    expect(result.code).toBe(1);
    const [recorded] = await setup.primary.select<{ drift: number }>('SELECT drift FROM verify_runs ORDER BY id DESC LIMIT 1');
    expect(Number(recorded!.drift)).toBe(1);
  }, 60_000);

  it('When --replica is given without DATABASE_REPLICA_URL, then it exits 2 naming the flag', async () => {
    const result = await startScript('cli/verify.ts', ['--replica'], { DATABASE_URL: setup.database.url }).result;

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--replica needs DATABASE_REPLICA_URL/);
  });
});
