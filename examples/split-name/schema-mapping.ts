// Worked example for "Adapt this template": the same table and old columns, but the new column stores the
// name SPLIT: profile_data = {"first_name", "last_name", "email"}. This file has the exact shape of
// shared/schema-mapping.ts (checked by `satisfies SchemaMapping`); to use it, copy it over that file and follow
// README.md ("Adapt this template"). test/template/split-name.test.ts proves the two properties a mapping must have:
//   lossless both ways (old -> new -> old gives back every byte: v1 and the way back depend on it), and
//   the SQL the backfill runs computes, inside the database, exactly what the apps compute in code.
import type { SchemaMapping } from '../../shared/schema-mapping.ts';

export const USERS_TABLE = 'users';
export const OLD_COLUMNS = ['name', 'email'] as const;
export const NEW_COLUMN = 'profile_data';

export interface UserFields {
  name: string;
  email: string;
}

/** last_name null = the name had no space ("Plato"), so joining adds none: the round trip stays exact. */
export interface ProfileData {
  first_name: string;
  last_name: string | null;
  email: string;
}

/** Split at the FIRST space only; every other byte (more spaces, leading or trailing ones) is kept. */
export function toProfileData(fields: UserFields): ProfileData {
  const space = fields.name.indexOf(' ');
  return space < 0
    ? { first_name: fields.name, last_name: null, email: fields.email }
    : { first_name: fields.name.slice(0, space), last_name: fields.name.slice(space + 1), email: fields.email };
}

export function fromProfileData(profile: ProfileData): UserFields {
  return { name: profile.last_name === null ? profile.first_name : `${profile.first_name} ${profile.last_name}`, email: profile.email };
}

/**
 * The same split in SQL, from the row's own columns inside the backfill's UPDATE. INSTR and SUBSTR count
 * characters and mean the same on SQLite, MySQL and MariaDB, so one expression serves all three.
 */
export function profileDataFromOldColumnsSql(jsonObject: (fields: Record<string, string>) => string): string {
  const space = `INSTR(name, ' ')`;
  return jsonObject({
    first_name: `CASE WHEN ${space} = 0 THEN name ELSE SUBSTR(name, 1, ${space} - 1) END`,
    last_name: `CASE WHEN ${space} = 0 THEN NULL ELSE SUBSTR(name, ${space} + 1) END`,
    email: 'email',
  });
}

export function parseProfileData(raw: unknown): ProfileData | null {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null) return null;
  const { first_name, last_name, email } = value as Record<string, unknown>;
  if (typeof first_name !== 'string' || typeof email !== 'string' || !(last_name === null || typeof last_name === 'string')) return null;
  return { first_name, last_name, email };
}

/** Compared in code, byte for byte, on the old-column view of both sides. */
export function differingFields(a: UserFields, b: UserFields): (keyof UserFields)[] {
  return OLD_COLUMNS.filter((field) => a[field] !== b[field]);
}

export const splitNameMapping = {
  table: USERS_TABLE,
  oldColumns: OLD_COLUMNS,
  newColumn: NEW_COLUMN,
  toProfileData,
  fromProfileData,
  profileDataFromOldColumnsSql,
  parseProfileData,
  differingFields,
} satisfies SchemaMapping<UserFields, ProfileData>;
