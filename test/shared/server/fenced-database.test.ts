// The request pool fenced by the lease (shared/server/fenced-database.ts): a statement sent once the lease is
// gone is refused before it reaches the database. (A statement that finds the database unreachable giving the
// lease up is tested end to end, through a cut link: test/fences/cut-off.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../../shared/http/errors.ts';
import { fencedDatabase } from '../../../shared/server/fenced-database.ts';
import { sqliteTarget, unique } from '../../support/databases.ts';
import type { TestDatabase } from '../../support/databases.ts';

describe('fenced database', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it('When the lease is lost between a request\'s check and its statement, then the statement is refused with 503 lease_lost and nothing is written', async () => {
    database = await sqliteTarget().create({ migrateTo: null });
    await database.db.run('CREATE TABLE notes (note TEXT NOT NULL)');
    let held = true;
    const fenced = fencedDatabase(database.db, { leaseHeld: () => held });
    await fenced.run('INSERT INTO notes (note) VALUES ($1)', [unique('while-held')]);

    held = false;
    const refused = await fenced.run('INSERT INTO notes (note) VALUES ($1)', [unique('after-loss')]).catch((err: unknown) => err);
    const refusedTransaction = await fenced.transaction((tx) => tx.run('INSERT INTO notes (note) VALUES ($1)', [unique('in-transaction')])).catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 503, code: 'lease_lost' });
    expect(refusedTransaction).toMatchObject({ status: 503, code: 'lease_lost' });
    expect(await database.db.select('SELECT note FROM notes')).toHaveLength(1);
  });
});
