// The runner's side of a snapshot (load/run/table-snapshots.ts): a row reaches the checker in the history's shape,
// the new column read back through the mapping, whatever the driver returned and whatever the mapping stores, so
// that the checker, which knows no column, judges the values the columns stand for.
import { describe, expect, it } from 'vitest';
import { splitNameMapping } from '../../examples/split-name/schema-mapping.ts';
import { usersMapping } from '../../examples/users.ts';
import { newColumnValue, snapshotRow } from '../../load/run/table-snapshots.ts';

const ada = { name: 'Ada Lovelace', email: 'ada@example.test' };
const all = new Set(['id', 'name', 'email', 'profile_data']);

describe('a snapshot row as the runner hands it to the checker', () => {
  it('When the new column is text with other key order and spacing (MariaDB) or an object (MySQL 8), then both read back as the same value', () => {
    const text = ` { "email" : "ada@example.test", "name": "Ada Lovelace" } `;
    expect(newColumnValue(text, usersMapping)).toEqual(ada);
    expect(newColumnValue({ email: ada.email, name: ada.name }, usersMapping)).toEqual(ada);
  });

  it('When the mapping stores another shape (split-name), then the new column reads back as the old columns\' values', () => {
    const stored = splitNameMapping.newJson(ada);
    expect(JSON.parse(stored)).toEqual({ first_name: 'Ada', last_name: 'Lovelace', email: ada.email });
    expect(snapshotRow({ id: 4, ...ada, profile_data: stored }, all, splitNameMapping)).toEqual({ key: '4', old: ada, new: ada });
  });

  it('When the new column is NULL, malformed or of the wrong shape, then it is null, or the reason the mapping could not read it back', () => {
    expect(newColumnValue(null, usersMapping)).toBeNull();
    expect(newColumnValue('{"name":', usersMapping)).toBe('not valid JSON');
    expect(newColumnValue('{"name":"Ada"}', usersMapping)).toBe('not a value the users mapping reads back');
    expect(newColumnValue({ name: 1, email: 'x' }, usersMapping)).toBe('not a value the users mapping reads back');
  });

  it('When a column does not exist (before expand, after contract) or is NULL, then the row says so: no old columns, or a null field', () => {
    expect(snapshotRow({ id: 1, ...ada }, new Set(['id', 'name', 'email']), usersMapping)).toEqual({ key: '1', old: ada, new: null });
    expect(snapshotRow({ id: 2, profile_data: JSON.stringify(ada) }, new Set(['id', 'profile_data']), usersMapping)).toEqual({ key: '2', old: null, new: ada });
    expect(snapshotRow({ id: 3, name: null, email: ada.email, profile_data: null }, all, usersMapping)).toEqual({ key: '3', old: { name: null, email: ada.email }, new: null });
  });
});
