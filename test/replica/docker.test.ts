// The MySQL 8.4 replica for docker compose cannot run here (no Docker engine), so it is checked for what can be:
// its init script follows the primary with exactly the statement shared/db/replica/mysql.ts writes, and
// compose accepts the `replica` profile and the apps' override, which hands every instance a replica URL that
// the app's config accepts.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { mysqlReplication } from '../../shared/db/replica/mysql.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const script = fs.readFileSync(path.join(ROOT, 'docker/replica/10-follow-primary.sh'), 'utf8');
const dockerCompose = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'docker-compose')).find((file) => fs.existsSync(file)) ?? null;
if (!dockerCompose && process.env.REQUIRE_COMPOSE === '1') throw new Error('docker-compose not found on PATH (REQUIRE_COMPOSE=1)');

describe('MySQL 8.4 replica for docker compose', () => {
  it('When the init script follows the primary, then it uses the statements of shared/db/replica/mysql.ts', () => {
    const shell = { host: '${PRIMARY_HOST}', port: 0, user: '${REPLICATION_USER}', password: '${REPLICATION_PASSWORD}' };
    const [change, start] = mysqlReplication.followSql(shell).map((sql) => sql.replace('SOURCE_PORT=0', 'SOURCE_PORT=${PRIMARY_PORT}'));

    expect(script).toContain(`${change};`);
    expect(script).toContain(`${start};`);
    expect(script).toMatch(/--set-gtid-purged=ON/);
    expect(script).not.toMatch(/CHANGE MASTER|START SLAVE/);
  });

  it.skipIf(!dockerCompose)('When compose runs the replica profile with the apps override, then it validates and every app gets a replica URL its config accepts', async () => {
    const files = ['-f', 'docker-compose.yml', '-f', 'docker/replica/compose.apps.yml', '--profile', 'replica', '--profile', 'tools'];
    await run(dockerCompose!, ['--profile', 'replica', 'config', '-q'], { cwd: ROOT });
    const { stdout } = await run(dockerCompose!, [...files, 'config'], { cwd: ROOT });

    const replica = stdout.split(/\n  mysql-replica:\n/)[1]!.split(/\n  \S/)[0]!;
    expect(replica).toMatch(/image: mysql:8\.4/);
    expect(replica).toMatch(/--gtid-mode=ON/);
    expect(replica).toMatch(/10-follow-primary\.sh/);
    const urls = [...stdout.matchAll(/DATABASE_REPLICA_URL: (\S+)/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(5);
    for (const url of urls) {
      expect(loadConfig('v2', { DATABASE_URL: 'mysql://app:p@mysql:3306/app', DATABASE_REPLICA_URL: url }).DATABASE_REPLICA_URL).toBe(url);
    }
  });
});
