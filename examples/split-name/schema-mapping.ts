// Worked example of adapting the template: the same table and old columns, but the new column stores the name
// SPLIT: profile_data = {"first_name", "last_name", "email"}. Select it with MAPPING=split-name (listed in
// examples/index.ts). test/template/split-name.test.ts proves the two properties a mapping must have:
//   lossless both ways (old -> new -> old gives back every byte: v1 and the way back depend on it), and
//   the SQL computes, inside the database, exactly what the apps compute in code (both directions).
import { defineMapping } from '../../shared/mapping-contract.ts';

/** last_name null = the name had no space ("Plato"), so joining adds none: the round trip stays exact. */
export interface SplitName {
  first_name: string;
  last_name: string | null;
  email: string;
}

export const splitNameMapping = defineMapping({
  id: 'split-name',
  entity: 'user',
  table: 'users',
  route: '/users',
  keyColumn: 'id',
  oldColumns: [
    { name: 'name', mysqlType: 'VARCHAR(100)', sqliteType: 'TEXT', maxChars: 100 },
    { name: 'email', mysqlType: 'VARCHAR(254)', sqliteType: 'TEXT', maxChars: 254, format: 'email-address' },
  ],
  newColumn: 'profile_data',
  // A space in every generated name, so that seeds and load exercise the split.
  sample: (tag, domain) => ({ name: `${tag} Example`, email: `${tag}@${domain}` }),
  // Split at the FIRST space only; every other byte (more spaces, leading or trailing ones) is kept.
  toNew(fields): SplitName {
    const space = fields.name.indexOf(' ');
    return space < 0
      ? { first_name: fields.name, last_name: null, email: fields.email }
      : { first_name: fields.name.slice(0, space), last_name: fields.name.slice(space + 1), email: fields.email };
  },
  toOld: (profile) => ({ name: profile.last_name === null ? profile.first_name : `${profile.first_name} ${profile.last_name}`, email: profile.email }),
  parseNew(value): SplitName | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const { first_name, last_name, email } = value as Record<string, unknown>;
    if (typeof first_name !== 'string' || typeof email !== 'string' || !(last_name === null || typeof last_name === 'string')) return null;
    return { first_name, last_name, email };
  },
  sql: {
    // INSTR and SUBSTR count characters and mean the same on SQLite, MySQL and MariaDB: one expression serves all three.
    newFromOldSql(dialect, old) {
      const name = old('name');
      const space = `INSTR(${name}, ' ')`;
      return dialect.jsonObject({
        first_name: `CASE WHEN ${space} = 0 THEN ${name} ELSE SUBSTR(${name}, 1, ${space} - 1) END`,
        last_name: `CASE WHEN ${space} = 0 THEN NULL ELSE SUBSTR(${name}, ${space} + 1) END`,
        email: old('email'),
      });
    },
    newValidSql: (dialect, newColumn) =>
      `(${dialect.jsonStringField(newColumn, 'first_name')} IS NOT NULL AND ${dialect.jsonStringField(newColumn, 'email')} IS NOT NULL` +
      ` AND (${dialect.jsonStringField(newColumn, 'last_name')} IS NOT NULL OR ${dialect.jsonNullField(newColumn, 'last_name')}))`,
    oldFromNewSql(dialect, newColumn) {
      const first = dialect.jsonStringField(newColumn, 'first_name');
      const last = dialect.jsonStringField(newColumn, 'last_name');
      const email = dialect.jsonStringField(newColumn, 'email');
      const valid = `(${first} IS NOT NULL AND ${email} IS NOT NULL AND (${last} IS NOT NULL OR ${dialect.jsonNullField(newColumn, 'last_name')}))`;
      return {
        name: `(CASE WHEN ${valid} THEN (CASE WHEN ${last} IS NULL THEN ${first} ELSE ${dialect.concat([first, `' '`, last])} END) END)`,
        email: `(CASE WHEN ${valid} THEN ${email} END)`,
      };
    },
  },
});
