// The replica settings, validated at start-up like every other: a bad value is one line naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadReplicaUrl } from '../../shared/config.ts';

const primary = { DATABASE_URL: 'mysql://app:p@127.0.0.1:3306/app' };
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

describe('replica config', () => {
  it('When no replica is set, then both versions run without one and the wait has its default', () => {
    for (const version of ['v1', 'v2'] as const) {
      const config = loadConfig(version, primary);
      expect(config.DATABASE_REPLICA_URL).toBeUndefined();
      expect(config.REPLICA_WAIT_MS).toBe(250);
    }
    expect(loadReplicaUrl({})).toBeNull();
  });

  it('When a replica is set for v1 or v2, then it is accepted with the wait asked for', () => {
    const env = { ...primary, DATABASE_REPLICA_URL: 'mysql://app:p@127.0.0.1:3307/app', REPLICA_WAIT_MS: '100' };
    expect(loadConfig('v1', env)).toMatchObject({ DATABASE_REPLICA_URL: env.DATABASE_REPLICA_URL, REPLICA_WAIT_MS: 100 });
    expect(loadConfig('v2', env).DATABASE_REPLICA_URL).toBe(env.DATABASE_REPLICA_URL);
  });

  it('When the replica setting is wrong, then the message names the variable', () => {
    expect(failure(() => loadConfig('v1', { ...primary, DATABASE_REPLICA_URL: 'postgres://x/db' }))).toMatch(/^DATABASE_REPLICA_URL must be mysql:\/\//);
    expect(failure(() => loadReplicaUrl({ DATABASE_REPLICA_URL: 'sqlite:./x' }))).toMatch(/^DATABASE_REPLICA_URL /);
    expect(failure(() => loadConfig('v2', { DATABASE_URL: 'sqlite:./x.sqlite', DATABASE_REPLICA_URL: 'mysql://a@h:1/db' }))).toMatch(/^DATABASE_REPLICA_URL needs a MySQL/);
    expect(failure(() => loadConfig('v2', { ...primary, REPLICA_WAIT_MS: '-1' }))).toMatch(/^REPLICA_WAIT_MS /);
    expect(failure(() => loadConfig('v2', { ...primary, ANTI_PATTERN: 'replica-reads' }))).toMatch(/^ANTI_PATTERN replica-reads needs DATABASE_REPLICA_URL/);
  });
});
