// The second worked example (examples/orders-address): orders(recipient, address) -> shipping_address {recipient,
// street, postcode, city}, keyed by a UUID the app assigns, with a transform only code can compute (an address parser). What it
// must share with every mapping: lossless both ways; what it adds: string keys through the HTTP contract, and a
// repair on read that, having no SQL to run inside the database, reads, transforms in code and writes with a
// compare-and-set on the old column's bytes.
import '../support/mapping-orders.ts';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinAddress, parseAddress } from '../../examples/orders-address/schema-mapping.ts';
import type { Database, Executor } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import { inProcessApp, sideBySide, waitFor } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';

const targets = await databaseTargets();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function stored(db: Database, id: string) {
  const [row] = await db.select<{ id: string; recipient: string | null; address: string | null; shipping_address: unknown }>(
    'SELECT id, recipient, address, shipping_address FROM orders WHERE id = $1',
    [id],
  );
  if (!row) return undefined;
  const raw = row.shipping_address;
  return { id: row.id, recipient: row.recipient, address: row.address, shipping: raw === null ? null : typeof raw === 'string' ? JSON.parse(raw) : raw };
}

describe('the orders-address mapping', () => {
  it('is the active mapping in this file (MAPPING=orders-address), with uuid keys and no SQL form', () => {
    expect([mapping.id, mapping.table, mapping.keyType, mapping.sql]).toEqual(['orders-address', 'orders', 'uuid', null]);
  });

  it('When an address has the form "<street>, <postcode> <city>", then it is split into those parts', () => {
    expect(parseAddress('Hauptstraße 5, 10115 Berlin')).toEqual({ street: 'Hauptstraße 5', postcode: '10115', city: 'Berlin' });
    expect(parseAddress('221B Baker Street, NW1 6XE London')).toEqual({ street: '221B Baker Street', postcode: 'NW1 6XE', city: 'London' });
    // The LAST ", <postcode> " splits: a comma inside the street stays in the street.
    expect(parseAddress('Flat 2, 7 Rue Cler, 75007 Paris')).toEqual({ street: 'Flat 2, 7 Rue Cler', postcode: '75007', city: 'Paris' });
  });

  it('When an address cannot be split exactly (no postcode, two spaces, a trailing space), then it is kept whole in street', () => {
    for (const address of ['somewhere without a postcode', 'Rue Cler 7, 75007  Paris', 'Hauptstraße 5, 10115 Berlin ', 'Rue Cler 7,75007 Paris', '']) {
      expect(parseAddress(address)).toEqual({ street: address, postcode: null, city: null });
    }
  });

  it('When any address goes old -> new -> old, through code or through the stored JSON text, then every byte comes back', () => {
    const addresses = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.oneof(fc.stringMatching(/^\d{4,5}$/), fc.constantFrom('NW1 6XE', 'EC1A 1BB')), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })).map(([s, p, c]) => `${s}, ${p} ${c}`),
    );
    fc.assert(
      fc.property(addresses, (address) => {
        expect(joinAddress(parseAddress(address))).toBe(address);
        expect(mapping.readNew(mapping.newJson({ recipient: 'R', address }))).toEqual({ recipient: 'R', address });
      }),
      { numRuns: 500 },
    );
  });

  it('When the stored JSON holds parts the parser would not produce (a half split, a postcode of the wrong shape), then it is not read as an address', () => {
    const recipient = 'Ada';
    expect(mapping.readNew(JSON.stringify({ recipient, street: 'Rue Cler 7', postcode: '75007', city: null }))).toBeNull();
    expect(mapping.readNew(JSON.stringify({ recipient, street: 'Rue Cler 7', postcode: 'x1', city: 'Paris' }))).toBeNull();
    expect(mapping.readNew(JSON.stringify({ recipient, street: 'a, 75007 Paris', postcode: null, city: null }))).toBeNull();
    expect(mapping.readNew(JSON.stringify({ street: 'Rue Cler 7', postcode: '75007', city: 'Paris' }))).toBeNull();
    expect(mapping.readNew(JSON.stringify({ recipient, street: 'Rue Cler 7', postcode: '75007', city: 'Paris' }))).toEqual({ recipient, address: 'Rue Cler 7, 75007 Paris' });
  });
});

describe.each(targets)('orders over HTTP with UUID keys on $name', (target) => {
  const apps = sideBySide(target);
  let v2Repairing: InProcessApp;
  beforeAll(async () => {
    if (!target.skip) v2Repairing = await inProcessApp('v2', apps.database.db, { REPAIR_ON_READ: '1' });
  });
  afterAll(async () => {
    await v2Repairing?.close();
  });
  const orderFor = (label: string) => {
    const tag = unique(label);
    return { recipient: `Recipient ${tag}`, address: `${tag} Example Street 5, 10115 Berlin` };
  };
  const shippingOf = (order: { recipient: string; address: string }) => ({ recipient: order.recipient, ...parseAddress(order.address) });

  it.skipIf(target.skip)('When v2 creates an order, then the app assigns a UUID key and dual-writes the parsed address; v1 reads it by that key', async () => {
    const order = orderFor('create');
    const created = await request(apps.v2.app).post('/orders').send(order).expect(201);

    expect(created.body.id).toMatch(UUID);
    expect(created.headers.location).toBe(`/orders/${created.body.id}`);
    expect(await stored(apps.database.db, created.body.id)).toEqual({ id: created.body.id, ...order, shipping: shippingOf(order) });
    expect((await request(apps.v1.app).get(`/orders/${created.body.id}`).expect(200)).body).toEqual({ id: created.body.id, ...order });
  });

  it.skipIf(target.skip)('When a request names an order by something that is not a lower-case UUID, then it is a 400 naming id, and nothing is written', async () => {
    const before = await apps.database.db.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM orders');
    for (const bad of ['42', 'not-a-uuid', '6F9619FF-8B86-4D11-B42D-00C04FC964FF', '..%2Fusers']) {
      const answer = await request(apps.v2.app).put(`/orders/${bad}`).send(orderFor('bad')).expect(400);
      expect(answer.body.error).toMatchObject({ code: 'invalid_id', details: [{ field: 'id', message: 'must be a lower-case UUID' }] });
    }
    expect(await apps.database.db.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM orders')).toEqual(before);
    await request(apps.v1.app).get('/orders/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it.skipIf(target.skip)('When v1 updates an order after v2 wrote it, then v2 returns v1 value (the old columns are the truth while v1 writes)', async () => {
    const created = await request(apps.v2.app).post('/orders').send(orderFor('first')).expect(201);
    const next = orderFor('by-v1');
    await request(apps.v1.app).put(`/orders/${created.body.id}`).send(next).expect(200);

    expect((await request(v2Repairing.app).get(`/orders/${created.body.id}`).expect(200)).body).toEqual({ id: created.body.id, ...next });
    expect(await stored(apps.database.db, created.body.id)).toMatchObject(next);
  });

  it.skipIf(target.skip)('When v2 with repair on read reads an order v1 created, then it fills shipping_address in code from the row own columns', async () => {
    const order = orderFor('v1-created');
    const created = await request(apps.v1.app).post('/orders').send(order).expect(201);
    expect((await stored(apps.database.db, created.body.id))?.shipping).toBeNull();

    expect((await request(v2Repairing.app).get(`/orders/${created.body.id}`).expect(200)).body).toEqual({ id: created.body.id, ...order });
    await waitFor(async () => (await stored(apps.database.db, created.body.id))?.shipping ?? undefined, { timeoutMs: 5000, what: 'the repair on read' });
    expect(await stored(apps.database.db, created.body.id)).toEqual({ id: created.body.id, ...order, shipping: shippingOf(order) });
  });

  it.skipIf(target.skip)('When v1 changes the address between the repair read and its write, then the repair does not store the older address: it reads again and stores the newer one', async () => {
    const users = usersRepository(apps.database.db);
    const first = orderFor('raced');
    const { id } = await users.insertOld(first);
    const newer = { ...first, address: orderFor('raced-newer').address };
    let raced = false;
    // The repair's compare-and-set UPDATE runs right after v1's write lands: the interleaving a live table gives.
    const racing: Database = Object.create(apps.database.db, {
      update: {
        value: async (sql: string, params?: Parameters<Executor['update']>[1]) => {
          if (!raced && sql.includes('IS NULL AND')) {
            raced = true;
            await users.updateOld(id, newer);
          }
          return apps.database.db.update(sql, params);
        },
      },
    });

    expect(await usersRepository(racing).repairMissingProfile(id)).toBe(true);

    expect(raced).toBe(true);
    expect(await stored(apps.database.db, String(id))).toEqual({ id, ...newer, shipping: shippingOf(newer) });
  });

  it.skipIf(target.skip)('When v2 patches the recipient of an order, then the address stays and shipping_address is rebuilt whole in code from the merged row', async () => {
    const order = orderFor('patched');
    const { body } = await request(apps.v2.app).post('/orders').send(order).expect(201);
    const recipient = `Recipient ${unique('new')}`;

    expect((await request(apps.v2.app).patch(`/orders/${body.id}`).send({ recipient }).expect(200)).body).toEqual({ id: body.id, recipient, address: order.address });

    expect(await stored(apps.database.db, body.id)).toEqual({ id: body.id, recipient, address: order.address, shipping: shippingOf({ recipient, address: order.address }) });
  });

  it.skipIf(target.skip)('When v1 deletes an order, then v2 answers 404 for its UUID and the row is gone', async () => {
    const { body } = await request(apps.v2.app).post('/orders').send(orderFor('deleted')).expect(201);
    await request(apps.v1.app).delete(`/orders/${body.id}`).expect(204);
    await request(apps.v2.app).get(`/orders/${body.id}`).expect(404);
    expect(await stored(apps.database.db, body.id)).toBeUndefined();
  });
});
