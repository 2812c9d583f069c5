// The compose init scripts (docker/replica/10-follow-primary.sh on the replica, docker/mysql/10-accounts.sh on
// the primary) cannot run here (no Docker engine, no MySQL 8.4), so each runs inside a bash stand-in for the mysql image's entrypoint (support/mysql-entrypoint.sh:
// the image's shell options, its docker_process_sql, and the sourcing loop), with fake `mysql` and `mysqldump`
// clients that record every statement. What it proves: each script survives being sourced by that entrypoint,
// leaves the entrypoint's shell options as it found them, and sends its statements.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRYPOINT = path.join(import.meta.dirname, 'support/mysql-entrypoint.sh');
const INIT_SCRIPT = path.join(ROOT, 'docker/replica/10-follow-primary.sh');
const run = promisify(execFile);

// The fake clients: `-e SQL` is a query to the primary (answered from PRIMARY_GTID_MODE), stdin is SQL for the
// server being initialised. Each call appends one record to $FAKE_LOG.
const FAKE_MYSQL = `#!/bin/bash
sql=""; args="$*"
while [ $# -gt 0 ]; do case "$1" in -e) sql="$2"; shift 2 ;; *) shift ;; esac; done
if [ -z "$sql" ]; then printf 'LOCAL %s\\n%s\\n' "$args" "$(cat)" >> "$FAKE_LOG"; exit 0; fi
printf 'PRIMARY %s\\n' "$sql" >> "$FAKE_LOG"
case "$sql" in
  "SELECT 1") echo 1 ;;
  "SELECT @@GLOBAL.gtid_mode") echo "$PRIMARY_GTID_MODE" ;;
  "SHOW GLOBAL STATUS LIKE 'Ongoing_anonymous_transaction_count'") printf 'Ongoing_anonymous_transaction_count\\t0\\n' ;;
esac
`;
const FAKE_MYSQLDUMP = `#!/bin/bash
printf 'DUMP %s\\n' "$*" >> "$FAKE_LOG"
echo "-- dump of the primary"
`;

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const PASSWORDS = Object.fromEntries(['MIGRATOR', 'APP_V1', 'APP_V2', 'CLI', 'REPLICA_READER'].map((a) => [`${a}_PASSWORD`, `${a.toLowerCase().replace('_', '')}0123456789abcdef`]));

async function entrypoint(primaryGtidMode: string, initScript = INIT_SCRIPT): Promise<{ code: number; output: string; log: string }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-replica-init-'));
  fs.writeFileSync(path.join(dir, 'mysql'), FAKE_MYSQL, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'mysqldump'), FAKE_MYSQLDUMP, { mode: 0o755 });
  // Not executable, as compose mounts it (:ro, mode 644 in git): the entrypoint sources it. The accounts script
  // is where compose mounts it, /opt/accounts: here, the repository's.
  const script = path.join(dir, path.basename(initScript));
  fs.writeFileSync(script, fs.readFileSync(initScript, 'utf8').replaceAll('/opt/accounts/accounts.sh', path.join(ROOT, 'deploy/database/accounts.sh')));
  fs.chmodSync(script, 0o644);
  const env = {
    ...PASSWORDS,
    PATH: `${dir}:${process.env.PATH ?? ''}`,
    FAKE_LOG: path.join(dir, 'log'),
    PRIMARY_GTID_MODE: primaryGtidMode,
    MYSQL_ROOT_PASSWORD: 'replica-root',
    MYSQL_DATABASE: 'app',
    PRIMARY_ROOT_PASSWORD: 'primary-root',
    REPLICATION_PASSWORD: 'replication',
  };
  const result = await run('bash', [ENTRYPOINT, script], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
  );
  const logFile = path.join(dir, 'log');
  return { ...result, log: fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '' };
}

describe('docker/replica/10-follow-primary.sh under the mysql image entrypoint', () => {
  it('When the entrypoint sources it on a GTID primary, then it loads the dump, follows by GTID and the entrypoint completes', async () => {
    const { code, output, log } = await entrypoint('ON');

    expect(output).toContain('MySQL init process done');
    expect(code).toBe(0);
    const local = log.split(/^(?=LOCAL |PRIMARY |DUMP )/m).filter((entry) => entry.startsWith('LOCAL '));
    expect(local.map((entry) => entry.split('\n')[1])).toEqual(['RESET BINARY LOGS AND GTIDS', '-- dump of the primary', expect.stringMatching(/^CHANGE REPLICATION SOURCE TO /)]);
    expect(local[2]).toMatch(/START REPLICA;\nCREATE USER IF NOT EXISTS 'replica_reader'@'%' IDENTIFIED BY '\w+';\nGRANT SELECT ON `app`\.\* TO 'replica_reader'@'%';\nSET PERSIST super_read_only = ON;/);
    expect(log).toMatch(/^DUMP .*--single-transaction --set-gtid-purged=ON --databases app$/m);
    expect(log).not.toMatch(/SET PERSIST gtid_mode/);
  });

  it('When the primary runs without GTIDs, then it turns them on in the documented order before following', async () => {
    const { code, log } = await entrypoint('OFF');

    expect(code).toBe(0);
    const steps = [...log.matchAll(/^PRIMARY SET PERSIST gtid_mode = (\w+)$/gm)].map((m) => m[1]);
    expect(steps).toEqual(['OFF_PERMISSIVE', 'ON_PERMISSIVE', 'ON']);
    expect(log.indexOf('SET PERSIST gtid_mode = ON\n')).toBeLessThan(log.indexOf('CHANGE REPLICATION SOURCE'));
  });
});

describe('docker/mysql/10-accounts.sh under the mysql image entrypoint', () => {
  it('When the entrypoint sources it on the primary\'s first start, then it creates the five accounts with their rights and the entrypoint completes', async () => {
    const { code, output, log } = await entrypoint('ON', path.join(ROOT, 'docker/mysql/10-accounts.sh'));

    expect(output).toContain('MySQL init process done');
    expect(code).toBe(0);
    const users = [...log.matchAll(/^CREATE USER IF NOT EXISTS '(\w+)'@'%' IDENTIFIED BY '(\w+)';$/gm)].map((m) => [m[1], m[2]]);
    expect(users).toEqual([
      ['migrator', PASSWORDS.MIGRATOR_PASSWORD],
      ['app_v1', PASSWORDS.APP_V1_PASSWORD],
      ['app_v2', PASSWORDS.APP_V2_PASSWORD],
      ['cli', PASSWORDS.CLI_PASSWORD],
      ['replica_reader', PASSWORDS.REPLICA_READER_PASSWORD],
    ]);
    expect(log).toMatch(/^GRANT [^;]*TRIGGER[^;]* ON `app`\.\* TO 'migrator'@'%';$/m);
    expect(log).not.toMatch(/TO 'app_v1'/);
  });
});
