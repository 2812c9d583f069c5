// The MySQL 8.4 replica for docker compose cannot run here (no Docker engine), so it is checked for what can be:
// its init script follows the primary with exactly the statement shared/db/replica/mysql.ts writes, and
// compose accepts the `replica` profile and the apps' override, which hands every instance a replica URL that
// the app's config accepts, and the replica's healthcheck (run against a fake `mysql`) passes only while both
// replication threads run.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { mysqlReplication } from '../../shared/db/replica/mysql.ts';
import { composeConfig, dockerCompose, newComposeEnv } from '../template/support/compose.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const script = fs.readFileSync(path.join(ROOT, 'docker/replica/10-follow-primary.sh'), 'utf8');

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
    const env = { ...process.env, ...(await newComposeEnv()) };
    await run(dockerCompose!, ['--profile', 'replica', 'config', '-q'], { cwd: ROOT, env });
    const { stdout } = await run(dockerCompose!, [...files, 'config'], { cwd: ROOT, env });

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

  it.skipIf(!dockerCompose)('When one replication thread stops, then the replica healthcheck fails; with both running it passes', async () => {
    const { services } = await composeConfig(['--profile', 'replica'], await newComposeEnv());
    const [kind, command] = services['mysql-replica']!.healthcheck!.test;
    expect(kind).toBe('CMD-SHELL');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-replica-health-'));
    // A fake client printing SHOW REPLICA STATUS\G with the thread states of $IO and $SQL.
    fs.writeFileSync(path.join(dir, 'mysql'), '#!/bin/sh\nprintf "  Replica_IO_State: x\\n  Replica_IO_Running: %s\\n  Replica_SQL_Running: %s\\n  Replica_SQL_Running_State: Waiting\\n" "$IO" "$SQL"\n', { mode: 0o755 });
    const healthy = (io: string, sql: string) =>
      run('sh', ['-c', command!], { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, MYSQL_ROOT_PASSWORD: 'x', IO: io, SQL: sql } }).then(() => true, () => false);
    try {
      expect(await healthy('Yes', 'Yes')).toBe(true);
      expect(await healthy('No', 'Yes')).toBe(false);
      expect(await healthy('Connecting', 'Yes')).toBe(false);
      expect(await healthy('Yes', 'No')).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
