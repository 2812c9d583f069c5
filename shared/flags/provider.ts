// An OpenFeature provider backed by the flags table. Each instance polls the one-row flag-set version every
// FLAG_POLL_MS (default 250 ms) and reloads the values when it moves, so a change made anywhere (CLI, admin
// API) reaches every instance of every version within a second, with no restart: the instant rollback.
// Evaluation reads the in-memory copy; a database outage keeps the last loaded values.
import { ErrorCode, OpenFeatureEventEmitter, ProviderEvents, StandardResolutionReasons } from '@openfeature/server-sdk';
import type { JsonValue, Provider, ResolutionDetails } from '@openfeature/server-sdk';
import type { Logger } from 'pino';
import type { Database } from '../db/connection.ts';
import { defaultFlagValues, flagNames, isFlagName } from './registry.ts';
import type { FlagValues } from './registry.ts';
import { readFlagSet } from './store.ts';

export interface LoadedFlags {
  values: FlagValues;
  /** The flag-set version these values belong to (null until the first load). */
  version: number | null;
  /** When this instance loaded them (ISO time, this host's clock: for display only). */
  loadedAt: string | null;
}

export class DatabaseFlagProvider implements Provider {
  readonly metadata = { name: 'database-flags' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private loaded: LoadedFlags = { values: defaultFlagValues(), version: null, loadedAt: null };
  private timer: NodeJS.Timeout | undefined;
  /** Called after every load of a new flag-set version (also when no value changed). */
  onLoad: () => void = () => {};
  private polling: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  get current(): LoadedFlags {
    return this.loaded;
  }

  async initialize(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: unknown) => this.logger.warn({ err }, 'flag poll failed; keeping the last loaded values'))
        .finally(() => (this.polling = undefined));
    }, this.pollMs);
    this.timer.unref();
  }

  /** A poll now, after any in flight (which may have read the flag set before the caller's moment). */
  async refresh(): Promise<void> {
    await this.polling;
    await this.poll();
  }

  async onClose(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  private async poll(): Promise<void> {
    const set = await readFlagSet(this.db);
    if (set === null || set.version === this.loaded.version) return;
    for (const name of set.invalid) this.logger.error({ flag: name }, 'stored flag value is invalid; using the default');
    const before = this.loaded.values;
    this.loaded = { values: set.values, version: set.version, loadedAt: new Date().toISOString() };
    const flagsChanged = flagNames.filter((name) => before[name] !== set.values[name]);
    if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
    else this.onLoad();
  }

  private resolve<T>(flagKey: string, defaultValue: T, type: 'boolean' | 'number' | 'string' | 'object'): Promise<ResolutionDetails<T>> {
    if (!isFlagName(flagKey)) {
      return Promise.resolve({ value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND });
    }
    const value: unknown = this.loaded.values[flagKey];
    if (typeof value !== type) {
      return Promise.resolve({ value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH });
    }
    return Promise.resolve({ value: value as T, reason: StandardResolutionReasons.STATIC, flagMetadata: { version: this.loaded.version ?? -1 } });
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean) {
    return this.resolve(flagKey, defaultValue, 'boolean');
  }
  resolveNumberEvaluation(flagKey: string, defaultValue: number) {
    return this.resolve(flagKey, defaultValue, 'number');
  }
  resolveStringEvaluation(flagKey: string, defaultValue: string) {
    return this.resolve(flagKey, defaultValue, 'string');
  }
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T) {
    return this.resolve(flagKey, defaultValue, 'object');
  }
}
