// The users table: every statement any version runs against it, named after what it touches.
// v1 calls only the *Old* functions (it knows nothing of profile_data); v2's dual-write strategies and
// dual-read policy call the *Both*/*WithProfile* ones, and in write mode new-only only the *NewOnly* ones.
// All statements are parameterized; none is built from input.
import { NEW_COLUMN, profileDataFromOldColumnsSql, USERS_TABLE } from '../schema-mapping.ts';
import type { UserFields } from '../schema-mapping.ts';
import type { Database, Executor } from './connection.ts';

export interface User extends UserFields {
  id: number;
}

/** A row as v2 reads it: old columns and the raw new column (string, object or null: see parseProfileData). */
export interface UserRowWithProfile extends User {
  profileData: unknown;
}

export type UsersRepository = ReturnType<typeof usersRepository>;

export function usersRepository(db: Database) {
  const now = db.dialect.now;
  const profileFromOld = profileDataFromOldColumnsSql(db.dialect.jsonObject);
  const toUser = (row: { id: number | string; name: string; email: string }): User => ({ id: Number(row.id), name: row.name, email: row.email });

  return {
    // ---- old columns only: v1, and v2's first statement in the `sequential` strategy
    async insertOld(fields: UserFields): Promise<User> {
      const id = await db.insert(`INSERT INTO ${USERS_TABLE} (name, email, created_at, updated_at) VALUES ($1, $2, ${now}, ${now})`, [fields.name, fields.email]);
      return { id, ...fields };
    },
    async updateOld(id: number, fields: UserFields, ex: Executor = db): Promise<boolean> {
      const matched = await ex.update(`UPDATE ${USERS_TABLE} SET name = $1, email = $2, updated_at = ${now} WHERE id = $3`, [fields.name, fields.email, id]);
      return matched > 0;
    },
    async findOld(id: number, ex: Executor = db): Promise<User | null> {
      const [row] = await ex.select<{ id: number; name: string; email: string }>(`SELECT id, name, email FROM ${USERS_TABLE} WHERE id = $1`, [id]);
      return row ? toUser(row) : null;
    },

    // ---- both columns: v2 dual-write
    async insertBoth(fields: UserFields, profileJson: string): Promise<User> {
      const id = await db.insert(
        `INSERT INTO ${USERS_TABLE} (name, email, ${NEW_COLUMN}, created_at, updated_at) VALUES ($1, $2, $3, ${now}, ${now})`,
        [fields.name, fields.email, profileJson],
      );
      return { id, ...fields };
    },
    /** One statement sets old and new columns together: no torn row, one round trip. */
    async updateBoth(id: number, fields: UserFields, profileJson: string, ex: Executor = db): Promise<boolean> {
      const matched = await ex.update(
        `UPDATE ${USERS_TABLE} SET name = $1, email = $2, ${NEW_COLUMN} = $3, updated_at = ${now} WHERE id = $4`,
        [fields.name, fields.email, profileJson, id],
      );
      return matched > 0;
    },
    async updateNew(id: number, profileJson: string, ex: Executor = db): Promise<boolean> {
      const matched = await ex.update(`UPDATE ${USERS_TABLE} SET ${NEW_COLUMN} = $1 WHERE id = $2`, [profileJson, id]);
      return matched > 0;
    },
    /** Old and new columns of one row in one query (dual-read never needs a second round trip). */
    async findWithProfile(id: number, ex: Executor = db): Promise<UserRowWithProfile | null> {
      const [row] = await ex.select<{ id: number; name: string; email: string; profile_data: unknown }>(
        `SELECT id, name, email, ${NEW_COLUMN} AS profile_data FROM ${USERS_TABLE} WHERE id = $1`,
        [id],
      );
      return row ? { ...toUser(row), profileData: row.profile_data } : null;
    },
    // ---- new column only: v2 in write mode new-only (never names the old columns, which contract drops)
    async insertNewOnly(profileJson: string): Promise<number> {
      return db.insert(`INSERT INTO ${USERS_TABLE} (${NEW_COLUMN}, created_at, updated_at) VALUES ($1, ${now}, ${now})`, [profileJson]);
    },
    async updateNewOnly(id: number, profileJson: string): Promise<boolean> {
      const matched = await db.update(`UPDATE ${USERS_TABLE} SET ${NEW_COLUMN} = $1, updated_at = ${now} WHERE id = $2`, [profileJson, id]);
      return matched > 0;
    },
    async findNewOnly(id: number, ex: Executor = db): Promise<{ id: number; profileData: unknown } | null> {
      const [row] = await ex.select<{ id: number | string; profile_data: unknown }>(`SELECT id, ${NEW_COLUMN} AS profile_data FROM ${USERS_TABLE} WHERE id = $1`, [id]);
      return row ? { id: Number(row.id), profileData: row.profile_data } : null;
    },

    /**
     * Repair on read: fills a missing new column from the row's own current old columns, computed inside the
     * UPDATE. It never copies a value the app read earlier (which a concurrent v1 write may already have
     * replaced), and `IS NULL` is the only guard: no `WHERE name = ?`, which a case- or accent-insensitive
     * collation would match against the wrong value.
     */
    async repairMissingProfile(id: number): Promise<boolean> {
      const matched = await db.update(`UPDATE ${USERS_TABLE} SET ${NEW_COLUMN} = ${profileFromOld} WHERE id = $1 AND ${NEW_COLUMN} IS NULL`, [id]);
      return matched > 0;
    },
  };
}
