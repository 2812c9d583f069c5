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

/**
 * The contract every mapping module fulfils: the one typed place naming the table, the old columns, the new
 * column, and the mapping both ways (in code, and in SQL for the backfill). Adapting the template starts by
 * writing another object of this shape (examples/split-name/ is a worked one) and its tests.
 * What is NOT derived from it, on purpose: the migrations (frozen history: write new numbered ones for your
 * table), the consistency checker in load/ (independent of app code by design: adapt its value shape), and
 * verify's drift SQL (shared/verify/drift-sql.ts), which assumes each old column is stored under a JSON key of
 * the same name: a mapping that reshapes values (like a split) must also say how to compare in SQL.
 */
export interface SchemaMapping<Fields extends object, Profile extends object> {
  table: string;
  oldColumns: readonly (keyof Fields & string)[];
  newColumn: string;
  toProfileData(fields: Fields): Profile;
  fromProfileData(profile: Profile): Fields;
  profileDataFromOldColumnsSql(jsonObject: (fields: Record<string, string>) => string): string;
  parseProfileData(raw: unknown): Profile | null;
  differingFields(a: Fields, b: Fields): (keyof Fields)[];
}

/** This project's mapping, checked against the contract at compile time. */
export const usersMapping = {
  table: USERS_TABLE,
  oldColumns: OLD_COLUMNS,
  newColumn: NEW_COLUMN,
  toProfileData,
  fromProfileData,
  profileDataFromOldColumnsSql,
  parseProfileData,
  differingFields,
} satisfies SchemaMapping<UserFields, ProfileData>;
