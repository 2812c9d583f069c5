// The flag registry: every runtime switch of the rollout, typed, with its range and default. Values live in
// the database (flags table) so every instance of every version sees one value. Nothing outside this registry
// can be set. The stage flags (read-trust-new, write-mode) and raises of read-new-percent pass the rollout's
// gate (shared/rollout/flag-gate.ts) wherever they are set; the backfill-* flags steer a running backfill.
import { columns } from '../schema-mapping.ts';

interface IntegerFlag {
  kind: 'integer';
  min: number;
  max: number;
  default: number;
  description: string;
}
interface BooleanFlag {
  kind: 'boolean';
  default: boolean;
  description: string;
}
interface EnumFlag {
  kind: 'enum';
  values: readonly string[];
  default: string;
  description: string;
}
export type FlagDefinition = IntegerFlag | BooleanFlag | EnumFlag;

/** How v2 writes (the write-mode flag); verify counts drift by the same modes. */
export const WRITE_MODES = ['dual', 'new-only'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

export const flagDefinitions = {
  'read-new-percent': {
    kind: 'integer',
    min: 0,
    max: 100,
    default: 0,
    description: `share of users (sticky, by a hash of the id) whose reads v2 serves from ${columns.new}, verified against the old columns`,
  },
  'dual-read': {
    kind: 'boolean',
    default: false,
    description: 'v2 reads both columns, returns the old ones, and counts and logs every mismatch',
  },
  'read-trust-new': {
    kind: 'boolean',
    default: false,
    description: `stage live: v2 serves every read from ${columns.new} without comparing it to the old columns (set by npm run rollout)`,
  },
  'write-mode': {
    kind: 'enum',
    values: WRITE_MODES,
    default: 'dual',
    description: `dual: v2 writes old columns and ${columns.new}; new-only: v2 reads and writes only ${columns.new} (set by npm run rollout)`,
  },
  'backfill-pause': {
    kind: 'boolean',
    default: false,
    description: 'a running backfill waits (and says so) until this is false again',
  },
  'backfill-batch-size': {
    kind: 'integer',
    min: 0,
    max: 100_000,
    default: 0,
    description: "keys per backfill batch, applied by a running backfill at its next batch; 0: the command line's --batch (or adaptive)",
  },
  'backfill-sleep-ms': {
    kind: 'integer',
    min: 0,
    max: 60_000,
    default: 0,
    description: "pause between backfill batches, applied by a running backfill at once; 0: the command line's --sleep-ms",
  },
} as const satisfies Record<string, FlagDefinition>;

export type FlagName = keyof typeof flagDefinitions;
type ValueOf<D> = D extends { kind: 'integer' }
  ? number
  : D extends { kind: 'boolean' }
    ? boolean
    : D extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : never;
export type FlagValues = { [K in FlagName]: ValueOf<(typeof flagDefinitions)[K]> };

export const flagNames = Object.keys(flagDefinitions) as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(flagDefinitions, name);
}

/** Former names still accepted wherever a flag is named (the command line, the admin API, a stored row). */
export const FLAG_ALIASES: Readonly<Record<string, FlagName>> = { 'shadow-compare': 'dual-read' };

/** The flag a name means, its former names included (null: no such flag). */
export function flagNameOf(name: string): FlagName | null {
  if (isFlagName(name)) return name;
  return Object.hasOwn(FLAG_ALIASES, name) ? FLAG_ALIASES[name]! : null;
}

export function defaultFlagValues(): FlagValues {
  return Object.fromEntries(flagNames.map((name) => [name, flagDefinitions[name].default])) as FlagValues;
}

export type FlagParse<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Checks a value for a flag: a JSON value (HTTP, the database) or, with `fromText`, a command-line word
 * ("25", "on", "true"). The error names the flag and says what it accepts.
 */
export function parseFlagValue(given: string, raw: unknown, { fromText = false } = {}): FlagParse<FlagValues[FlagName]> {
  const name = flagNameOf(given);
  if (name === null) return { ok: false, error: `unknown flag ${JSON.stringify(given)} (known: ${flagNames.join(', ')})` };
  const definition: FlagDefinition = flagDefinitions[name];
  if (definition.kind === 'integer') {
    const value = fromText && typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < definition.min || value > definition.max) {
      return { ok: false, error: `${name} must be an integer from ${definition.min} to ${definition.max} (got ${JSON.stringify(raw)})` };
    }
    return { ok: true, value };
  }
  if (definition.kind === 'enum') {
    const value = fromText && typeof raw === 'string' ? raw.trim() : raw;
    if (typeof value !== 'string' || !definition.values.includes(value)) {
      return { ok: false, error: `${name} must be one of ${definition.values.join(', ')} (got ${JSON.stringify(raw)})` };
    }
    return { ok: true, value: value as FlagValues[FlagName] };
  }
  const words: Record<string, boolean> = { true: true, on: true, '1': true, false: false, off: false, '0': false };
  const value = fromText && typeof raw === 'string' ? words[raw.trim().toLowerCase()] : raw;
  if (typeof value !== 'boolean') return { ok: false, error: `${name} must be true or false (got ${JSON.stringify(raw)})` };
  return { ok: true, value };
}

/** A flag value as a number, for gauges: booleans 0/1, enums the index of the value in the definition. */
export function flagNumericValue(name: FlagName, value: FlagValues[FlagName]): number {
  const definition: FlagDefinition = flagDefinitions[name];
  if (definition.kind === 'enum') return definition.values.indexOf(String(value));
  return Number(value);
}
