// The migration in one place: which table, which old columns, which new column, and how old maps to new.
// The apps, the backfill and verify all derive their SQL and their comparisons from this module, so the
// values written to the old columns and to the new column are identical by construction (the seed's
// "the values must be identical"). To adapt this template to another migration, start here.

/** The table being migrated. */
export const USERS_TABLE = 'users';
/** The old columns: the truth while any writer of them (v1) may still exist. */
export const OLD_COLUMNS = ['name', 'email'] as const;
/** The new column: JSON on MySQL/MariaDB, TEXT on SQLite. */
export const NEW_COLUMN = 'profile_data';

/** What a user is, whichever columns hold it. */
export interface UserFields {
  name: string;
  email: string;
}

/** The shape stored in the new column. */
export type ProfileData = UserFields;

/** Old -> new: the value the new column must hold for these old-column values. */
export function toProfileData(fields: UserFields): ProfileData {
  return { name: fields.name, email: fields.email };
}

/** New -> old: the way back (reverse backfill, and reads in new-only mode). */
export function fromProfileData(profile: ProfileData): UserFields {
  return { name: profile.name, email: profile.email };
}

/** The SQL expression that builds the new column from the row's own old columns, inside the statement. */
export function profileDataFromOldColumnsSql(jsonObject: (fields: Record<string, string>) => string): string {
  return jsonObject({ name: 'name', email: 'email' });
}

/**
 * Normalizes what the driver returns for the new column: mysql2 gives a string on MariaDB (JSON is LONGTEXT
 * there) and an object on MySQL 8; SQLite gives a string. NULL, unparseable JSON or a wrong shape -> null.
 */
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
  const { name, email } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof email !== 'string') return null;
  return { name, email };
}

/** The fields whose values differ, compared in code, byte for byte (never through a database collation). */
export function differingFields(a: UserFields, b: UserFields): (keyof UserFields)[] {
  return OLD_COLUMNS.filter((field) => a[field] !== b[field]);
}
