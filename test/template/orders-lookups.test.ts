// GET /orders?postcode=... (examples/orders-address): a lookup by a value only code can compute from the old column
// (the address parser), so before live the old columns answer through a LIKE prefilter and the parser decides each
// row; from live on the index over shipping_address answers (006-lookup-index).
import '../support/mapping-orders.ts';
import { randomInt } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapping } from '../../shared/schema-mapping.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { sideBySide } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { lookupPlan } from '../support/lookup-plan.ts';

const targets = await databaseTargets();

/** Postcodes no other test in this file uses (each file has a database of its own). */
let nextPostcode = 10000 + randomInt(80000);
const newPostcode = () => String(nextPostcode++);

describe.each(targets)('GET /orders?postcode= on $name', (target) => {
  const apps = sideBySide(target);
  const orderAt = (postcode: string, label = 'order') => ({ recipient: `Recipient ${unique(label)}`, address: `${unique(label)} Example Street 5, ${postcode} Berlin` });
  const lookup = (app: InProcessApp, postcode: string) => request(app.app).get('/orders').query({ postcode });
  const ordersTable = () => apps.database.db.select<Record<string, unknown>>('SELECT id, recipient, address, shipping_address FROM orders ORDER BY id');

  it('the orders mapping declares the lookup by postcode', () => {
    expect(mapping.lookup).toMatchObject({ param: 'postcode', jsonPath: '$.postcode', generatedColumn: 'shipping_address_postcode', indexName: 'orders_by_postcode' });
  });

  it.skipIf(target.skip)('When v1 writes an order after v2 wrote it, then a lookup by the new postcode through v2 before live finds it and the old postcode no longer does', async () => {
    const [before, after] = [newPostcode(), newPostcode()];
    const { body: order } = await request(apps.v2.app).post('/orders').send(orderAt(before)).expect(201);
    const moved = orderAt(after, 'moved');
    await request(apps.v1.app).put(`/orders/${order.id}`).send(moved).expect(200);

    for (const app of [apps.v1, apps.v2]) {
      expect((await lookup(app, after).expect(200)).body).toEqual({ items: [{ id: order.id, ...moved }], truncated: false });
      expect((await lookup(app, before).expect(200)).body).toEqual({ items: [], truncated: false });
    }
  });

  it.skipIf(target.skip)('When an address only looks like it holds the postcode (kept whole by the parser, or the digits in the street), then the lookup does not find it', async () => {
    const postcode = newPostcode();
    const split = (await request(apps.v1.app).post('/orders').send(orderAt(postcode, 'split')).expect(201)).body;
    // Matches the LIKE prefilter (", <postcode> "), but the parser keeps it whole (two spaces before the city).
    await request(apps.v1.app).post('/orders').send({ recipient: 'R', address: `Street 1, ${postcode}  Berlin` }).expect(201);
    // The postcode in the street: the parser splits at the LAST ", <postcode> ", which is another one.
    await request(apps.v1.app).post('/orders').send({ recipient: 'R', address: `Hof, ${postcode} Weg 2, ${newPostcode()} Berlin` }).expect(201);

    for (const app of [apps.v1, apps.v2]) expect((await lookup(app, postcode).expect(200)).body.items).toEqual([split]);
  });

  it.skipIf(target.skip)('When a postcode query is missing, empty, too long, not a postcode, or a parameter is unknown, then it is a 400 naming the parameter, and nothing changes', async () => {
    const before = await ordersTable();
    const cases: [string, string][] = [
      ['', 'postcode'],
      ['?postcode=', 'postcode'],
      ['?postcode=123456789', 'postcode'],
      ['?postcode=1%25', 'postcode'],
      ['?postcode=nw1%206xe', 'postcode'],
      ['?postcode=10115&city=Berlin', 'city'],
    ];
    for (const app of [apps.v1, apps.v2]) {
      for (const [query, field] of cases) {
        const answer = await request(app.app).get(`/orders${query}`).expect(400);
        expect(answer.body.error).toMatchObject({ code: 'invalid_query', details: [{ field }] });
      }
    }
    expect(await ordersTable()).toEqual(before);
  });

  describe('at stage live (read-trust-new)', () => {
    beforeAll(async () => {
      if (!target.skip) await setFlags(apps.database.db, { 'read-trust-new': true }, [apps.v2]);
    });
    afterAll(async () => {
      if (!target.skip) await setFlags(apps.database.db, { 'read-trust-new': false }, [apps.v2]);
    });

    it.skipIf(target.skip)('When v2 looks up by postcode at live, then the answer comes from shipping_address through its index', async () => {
      const postcode = newPostcode();
      const { body: order } = await request(apps.v2.app).post('/orders').send(orderAt(postcode)).expect(201);
      const uk = (await request(apps.v2.app).post('/orders').send({ recipient: 'R', address: 'Baker Street 221B, NW1 6XE London' }).expect(201)).body;

      const found = await lookup(apps.v2, postcode).expect(200);
      expect(found.headers['x-read-source']).toBe('new');
      expect(found.body).toEqual({ items: [order], truncated: false });
      expect((await lookup(apps.v2, 'NW1 6XE').expect(200)).body.items).toContainEqual(uk);
      expect(await lookupPlan(apps.database.db, postcode)).toMatch(apps.database.db.dialect.name === 'sqlite' ? /^SEARCH orders USING INDEX orders_by_postcode \(<expr>=\?\)$/ : /^key=orders_by_postcode$/);
    });
  });
});
