// What an app instance uses: typed flag evaluation through an OpenFeature client (one domain per instance, so
// several instances can live in one test process), plus the loaded snapshot for /healthz and the heartbeat.
import { OpenFeature } from '@openfeature/server-sdk';
import type { Logger } from 'pino';
import type { Database } from '../db/connection.ts';
import { DatabaseFlagProvider } from './provider.ts';
import type { LoadedFlags } from './provider.ts';
import { flagDefinitions } from './registry.ts';
import type { FlagName, FlagValues } from './registry.ts';

export interface Flags {
  get<K extends FlagName>(name: K): Promise<FlagValues[K]>;
  loaded(): LoadedFlags;
  close(): Promise<void>;
}

export async function startFlags(db: Database, { domain, pollMs, logger }: { domain: string; pollMs: number; logger: Logger }): Promise<Flags> {
  const provider = new DatabaseFlagProvider(db, pollMs, logger);
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  return {
    async get<K extends FlagName>(name: K): Promise<FlagValues[K]> {
      const definition = flagDefinitions[name];
      const value = definition.kind === 'boolean' ? await client.getBooleanValue(name, definition.default) : await client.getNumberValue(name, definition.default);
      return value as FlagValues[K];
    },
    loaded: () => provider.current,
    close: () => provider.onClose(),
  };
}
