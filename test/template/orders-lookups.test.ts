// GET /orders?postcode=... (examples/orders-address): a lookup by a value only code can compute from the old column
// (the address parser), so before live the old columns answer through a LIKE prefilter and the parser decides each
// row; from live on the index over shipping_address answers (006-lookup-index). The load asks by the postcode of
// each write's address too, and the checker judges those lookups (the last block).
import '../support/mapping-orders.ts';
import { randomInt } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../../examples/orders-address/schema-mapping.ts';
import { check } from '../../load/proof/checker/index.ts';
import { readFinalValues, runLoad } from '../../load/proof/generator.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { sideBySide, v1ProcessOnSqlite } from '../support/instances.ts';
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

describe('GET /orders?postcode= in the load (load/proof/generator.ts), against a real v1 instance', () => {
  // MAPPING=orders-address reaches the process through the environment (test/support/mapping-orders.ts).
  const real = v1ProcessOnSqlite();

  it('When the mix holds lookups, then the load asks by the postcode of the address it last wrote to a row (one postcode per address), records the lookup by that address, and the checker judges it: 0 anomalies, and a row left out of an answer is stale', async () => {
    const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: null });
    // Bounded by count, not time: a slow machine answers fewer requests in a second than the counts below need.
    // DELETEs too: v1's PATCH answers the value its compare-and-set wrote, so a DELETE right after it cannot make
    // an applied PATCH answer 404 (as a read-back did: test/app-v2/partial-updates-and-deletes.test.ts).
    await runLoad({ url: real.v1.url, recorder, connections: 6, durationSeconds: 30, maxRequests: 400, sharedUsers: 0.3, mix: { create: 2, write: 4, patch: 2, delete: 1, read: 4, lookup: 4 } });
    recorder.recordFinal(await readFinalValues(real.v1.url, recorder.keys()));

    const lookups = recorder.ops.filter((op) => op.f === 'lookup' && op.outcome === 'ok');
    expect(lookups.length).toBeGreaterThan(10);
    for (const op of lookups) {
      // Recorded by the field the postcode is computed from: the address the load last sent that row.
      expect(Object.keys(op.value ?? {})).toEqual(['address']);
      const asked = op.value!.address!;
      expect(recorder.ops.some((w) => w.key === op.key && (w.f === 'create' || w.f === 'write' || w.f === 'patch') && w.value?.address === asked && w.invokeAt < op.invokeAt)).toBe(true);
      // Every row an answer holds has the postcode asked for: its address, since no two addresses share one.
      for (const row of op.found ?? []) expect(row.value.address).toBe(asked);
    }
    const found = lookups.filter((op) => op.found?.some((row) => row.key === op.key));
    expect(found.length).toBeGreaterThan(lookups.length / 2);
    const written = [...new Set(recorder.ops.flatMap((op) => (op.f !== 'lookup' && op.value?.address !== undefined ? [op.value.address] : [])))];
    expect(new Set(written.map((address) => parseAddress(address).postcode)).size).toBe(written.length);

    const verdict = check(recorder.history());
    expect(verdict).toMatchObject({ anomalies: 0, lookups: lookups.length, finalReadChecked: true });

    // The same history with each found row left out of its answer: the checker judges the misses.
    const history = recorder.history();
    const missed = { ...history, ops: history.ops.map((op) => (op.f === 'lookup' && op.found ? { ...op, found: op.found.filter((row) => row.key !== op.key) } : op)) };
    const stale = check(missed).examples.stale.filter((example) => example.ops[0]?.f === 'lookup');
    expect(stale.length).toBeGreaterThan(0);
    expect(stale[0]!.reason).toMatch(/^missed by a lookup/);
  }, 60_000);
});
