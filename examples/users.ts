// The project's own migration: users(name, email) -> profile_data {"name", "email"}, one JSON key per old
// column. The default mapping (MAPPING=users). Copy this file to adapt the template to another table
// (docs/template.md), then add one line to examples/index.ts.
import type { Dialect } from '../shared/db/dialect.ts';
import { defineMapping, stringFields } from '../shared/mapping-contract.ts';

const COLUMNS = ['name', 'email'] as const;
type Column = (typeof COLUMNS)[number];

const sameKeys = (dialect: Dialect, newColumn: string) =>
  Object.fromEntries(COLUMNS.map((column) => [column, dialect.jsonStringField(newColumn, column)])) as Record<Column, string>;

export const usersMapping = defineMapping({
  id: 'users',
  entity: 'user',
  table: 'users',
  route: '/users',
  keyColumn: 'id',
  oldColumns: [
    { name: 'name', mysqlType: 'VARCHAR(100)', sqliteType: 'TEXT', maxChars: 100 },
    { name: 'email', mysqlType: 'VARCHAR(254)', sqliteType: 'TEXT', maxChars: 254, format: 'email-address' },
  ],
  newColumn: 'profile_data',
  toNew: (fields) => ({ name: fields.name, email: fields.email }),
  toOld: (profile) => ({ name: profile.name, email: profile.email }),
  parseNew: (value) => stringFields(value, COLUMNS),
  sql: {
    newFromOldSql: (dialect, old) => dialect.jsonObject({ name: old('name'), email: old('email') }),
    newValidSql: (dialect, newColumn) => `(${Object.values(sameKeys(dialect, newColumn)).map((field) => `${field} IS NOT NULL`).join(' AND ')})`,
    oldFromNewSql: sameKeys,
  },
  // GET /users?email=...: the email is the old column itself and the same key in the JSON. The old-column prefilter
  // is exact up to the collation (a `_ci` column also matches 'A@b.test'): the app keeps only byte-equal rows.
  lookup: {
    param: 'email',
    maxChars: 254,
    fromFields: (fields) => fields.email,
    jsonPath: '$.email',
    oldSql: (_dialect, value) => ({ where: 'email = $1', params: [value] }),
  },
});
