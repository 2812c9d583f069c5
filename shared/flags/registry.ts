// The flag registry: every runtime switch of the rollout, typed, with its range and default. Values live in
// the database (flags table) so every instance of every version sees one value; later steps add their flags
// here (write mode, backfill pause, ...). Nothing outside this registry can be set.

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
export type FlagDefinition = IntegerFlag | BooleanFlag;

export const flagDefinitions = {
  'read-new-percent': {
    kind: 'integer',
    min: 0,
    max: 100,
    default: 0,
    description: 'share of users (sticky, by a hash of the id) whose reads v2 serves from profile_data, verified against the old columns',
  },
  'shadow-compare': {
    kind: 'boolean',
    default: false,
    description: 'v2 reads both columns, returns the old ones, and counts and logs every mismatch',
  },
} as const satisfies Record<string, FlagDefinition>;

export type FlagName = keyof typeof flagDefinitions;
type ValueOf<D> = D extends { kind: 'integer' } ? number : D extends { kind: 'boolean' } ? boolean : never;
export type FlagValues = { [K in FlagName]: ValueOf<(typeof flagDefinitions)[K]> };

export const flagNames = Object.keys(flagDefinitions) as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(flagDefinitions, name);
}

export function defaultFlagValues(): FlagValues {
  return Object.fromEntries(flagNames.map((name) => [name, flagDefinitions[name].default])) as FlagValues;
}

export type FlagParse<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Checks a value for a flag: a JSON value (HTTP, the database) or, with `fromText`, a command-line word
 * ("25", "on", "true"). The error names the flag and says what it accepts.
 */
export function parseFlagValue(name: string, raw: unknown, { fromText = false } = {}): FlagParse<FlagValues[FlagName]> {
  if (!isFlagName(name)) return { ok: false, error: `unknown flag ${JSON.stringify(name)} (known: ${flagNames.join(', ')})` };
  const definition: FlagDefinition = flagDefinitions[name];
  if (definition.kind === 'integer') {
    const value = fromText && typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < definition.min || value > definition.max) {
      return { ok: false, error: `${name} must be an integer from ${definition.min} to ${definition.max} (got ${JSON.stringify(raw)})` };
    }
    return { ok: true, value };
  }
  const words: Record<string, boolean> = { true: true, on: true, '1': true, false: false, off: false, '0': false };
  const value = fromText && typeof raw === 'string' ? words[raw.trim().toLowerCase()] : raw;
  if (typeof value !== 'boolean') return { ok: false, error: `${name} must be true or false (got ${JSON.stringify(raw)})` };
  return { ok: true, value };
}
