// What an app instance uses: typed flag values resolved through an OpenFeature client (one domain per
// instance, so several instances can live in one test process), plus the loaded snapshot for /healthz and the
// heartbeat.
//
// Values are resolved through OpenFeature when the provider loads them and again on every
// ConfigurationChanged event, and read from memory on the request path: a per-request evaluation costs
// ~24 µs here (measured), twice per read, which alone cost v2 several percent of v1's read throughput.
// Per-user targeting (the read shift) is a pure function of the value and the user id (app-v2/read-shift.ts).
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import type { Logger } from 'pino';
import type { Database } from '../db/connection.ts';
import { DatabaseFlagProvider } from './provider.ts';
import type { LoadedFlags } from './provider.ts';
import { defaultFlagValues, flagDefinitions, flagNames } from './registry.ts';
import type { FlagDefinition, FlagName, FlagValues } from './registry.ts';

export interface Flags {
  /** The value this instance has loaded (synchronous: no I/O on the request path). */
  get<K extends FlagName>(name: K): FlagValues[K];
  /** The values, the flag-set version they belong to, and when they were loaded. */
  loaded(): LoadedFlags;
  /** Called after every load of a new flag-set version (the stage guard judges each one). */
  onLoad(listener: (loaded: LoadedFlags) => void): void;
  /** Reads the flag set now and waits until its values are loaded (before a lease is renewed). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export async function startFlags(db: Database, { domain, pollMs, logger }: { domain: string; pollMs: number; logger: Logger }): Promise<Flags> {
  const provider = new DatabaseFlagProvider(db, pollMs, logger);
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  let loaded: LoadedFlags = { values: defaultFlagValues(), version: null, loadedAt: null };
  const listeners: ((loaded: LoadedFlags) => void)[] = [];

  let resolving = Promise.resolve();
  const resolveAll = () => {
    resolving = resolving.then(async () => {
      const source = provider.current;
      const values = defaultFlagValues() as Record<FlagName, unknown>;
      for (const name of flagNames) {
        const definition: FlagDefinition = flagDefinitions[name];
        if (definition.kind === 'boolean') values[name] = await client.getBooleanValue(name, definition.default);
        else if (definition.kind === 'enum') values[name] = await client.getStringValue(name, definition.default);
        else values[name] = await client.getNumberValue(name, definition.default);
      }
      const changed = source.version !== loaded.version;
      loaded = { values: values as FlagValues, version: source.version, loadedAt: source.loadedAt };
      if (changed) for (const listener of listeners) listener(loaded);
    });
    return resolving;
  };
  await resolveAll();
  // Also on a version bump with unchanged values, so the reported version is always current.
  provider.onLoad = () => void resolveAll();
  client.addHandler(ProviderEvents.ConfigurationChanged, () => void resolveAll());

  return {
    get: (name) => loaded.values[name],
    loaded: () => loaded,
    onLoad: (listener) => listeners.push(listener),
    async refresh() {
      await provider.refresh();
      await resolveAll();
    },
    async close() {
      await provider.onClose();
      await resolving;
    },
  };
}
