// Config (shared/config.ts) is validated once at start-up: a bad value stops the instance with ONE line naming
// the variable and exit code 1, before it touches a database. Checked on the real entry points (the way a
// deploy starts them) and, for the finer cases, on loadConfig directly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import { runScript } from '../support/scripts.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-config-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const refusedAtStart: { version: AppVersion; env: Record<string, string>; variable: string }[] = [
  { version: 'v2', env: { PORT: 'abc' }, variable: 'PORT' },
  { version: 'v2', env: { DATABASE_URL: 'postgres://localhost/app' }, variable: 'DATABASE_URL' },
  { version: 'v2', env: { DUAL_WRITE_STRATEGY: 'both' }, variable: 'DUAL_WRITE_STRATEGY' },
  { version: 'v2', env: { DB_POOL_MAX: '0' }, variable: 'DB_POOL_MAX' },
  { version: 'v1', env: { DUAL_WRITE_STRATEGY: 'single' }, variable: 'DUAL_WRITE_STRATEGY' },
];

// Each case is its own short-lived process that refuses to start: they run side by side.
describe.concurrent('the entry points', () => {
  for (const { version, env, variable } of refusedAtStart) {
    const shown = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
    it(`When ${version} starts with ${shown}, then it prints one line naming ${variable}, exits 1 and touches no database`, async ({ expect }) => {
      const file = path.join(dir, `${version}-${variable}-${Object.values(env)[0]}.sqlite`.replace(/[^\w.-]/g, '_'));

      const result = await runScript(`app-${version}/server.ts`, [], { PORT: '0', DATABASE_URL: `sqlite:${file}`, ...env });

      expect(result.code).toBe(1);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toContain(variable);
      expect(fs.existsSync(file)).toBe(false);
    });
  }
});

describe('loadConfig', () => {
  const refused: { version: AppVersion; env: Record<string, string>; variable: string }[] = [
    { version: 'v2', env: { PORT: '-1' }, variable: 'PORT' },
  { version: 'v2', env: { PORT: '70000' }, variable: 'PORT' },
    { version: 'v2', env: { PORT: '80.5' }, variable: 'PORT' },
    { version: 'v2', env: { DATABASE_URL: 'mysql://host/db; DROP' }, variable: 'DATABASE_URL' },
    { version: 'v2', env: { DB_POOL_MAX: '201' }, variable: 'DB_POOL_MAX' },
    { version: 'v2', env: { DB_POOL_MAX: 'many' }, variable: 'DB_POOL_MAX' },
    { version: 'v2', env: { REPAIR_ON_READ: 'yes' }, variable: 'REPAIR_ON_READ' },
    { version: 'v2', env: { ADMIN_TOKEN: 'short' }, variable: 'ADMIN_TOKEN' },
    { version: 'v2', env: { HEARTBEAT_MS: '5' }, variable: 'HEARTBEAT_MS' },
    { version: 'v2', env: { FLAG_POLL_MS: '5000' }, variable: 'FLAG_POLL_MS' },
    { version: 'v2', env: { FAULT_INJECT: 'crash-always' }, variable: 'FAULT_INJECT' },
    // The test-only slowed v2 (app-v2/slow-requests.ts): never half-configured, never on v1.
    { version: 'v2', env: { FAULT_SLOW_MS: '20' }, variable: 'FAULT_SLOW_MS' },
    { version: 'v2', env: { FAULT_INJECT: 'slow-requests', FAULT_SLOW_MS: '0' }, variable: 'FAULT_SLOW_MS' },
    { version: 'v1', env: { FAULT_INJECT: 'slow-requests' }, variable: 'FAULT_INJECT' },
    { version: 'v2', env: { INSTANCE_ID: 'has spaces' }, variable: 'INSTANCE_ID' },
    { version: 'v1', env: { REPAIR_ON_READ: '1' }, variable: 'REPAIR_ON_READ' },
    // The sync install's anti-pattern (shared/sync/triggers.ts): a v2 started with it would be v2 as ever.
    { version: 'v2', env: { ANTI_PATTERN: 'one-way-trigger' }, variable: 'ANTI_PATTERN' },
  ];
  for (const { version, env, variable } of refused) {
    const shown = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
    it(`When ${version} is configured with ${shown}, then a ConfigError names ${variable} in one line`, () => {
      let error: unknown;
      try {
        loadConfig(version, env);
      } catch (err) {
        error = err;
      }

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as ConfigError).message.startsWith(`${variable} `)).toBe(true);
      expect((error as ConfigError).message).not.toContain('\n');
    });
  }

  it('When nothing is set, then the documented defaults apply', () => {
    const config = loadConfig('v2', {});

    expect(config).toMatchObject({
      PORT: 3000,
      DATABASE_URL: 'sqlite:./data/demo.sqlite',
      DB_POOL_MAX: 20,
      DUAL_WRITE_STRATEGY: 'single',
      REPAIR_ON_READ: false,
      FLAG_POLL_MS: 250,
      HEARTBEAT_MS: 1000,
      appVersion: 'v2',
    });
    expect(config.ADMIN_TOKEN).toBeUndefined();
  });

  it('When a variable is set to the empty string, then it counts as unset', () => {
    expect(loadConfig('v1', { DUAL_WRITE_STRATEGY: '', PORT: '' })).toMatchObject({ PORT: 3000, appVersion: 'v1' });
  });
});
